"""Each partner's private rating of each session they attended, and split-alliance alerts."""
