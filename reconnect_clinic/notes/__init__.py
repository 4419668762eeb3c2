"""Session notes: structured templates, drafts, signing, addenda."""
