"""The letter itself: its texts, its published versions, who is behind it, and when signing closes."""
