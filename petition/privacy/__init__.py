"""Keeping as little as possible for as short a time as possible, and sealing what is kept."""
