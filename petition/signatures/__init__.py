"""A signature from the form to its end: signing, confirming, correcting, withdrawing; its states;
review, moderation and the export."""
