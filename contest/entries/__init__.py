"""Entry rounds: contestants' submissions (text and files), blind judging, and their scores."""
