"""Keeping the letter reachable where its address is blocked: every address it is at, static copies
anyone can host, and the ways to pass it on."""
