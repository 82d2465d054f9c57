"""News about the letter: published in both languages, read on the site and in feeds, emailed to
signers who asked for it."""
