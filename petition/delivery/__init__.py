"""The copy of the letter and its signatories to deliver: what it holds, its layout, the PDF, and the
job the mail worker makes it in."""
