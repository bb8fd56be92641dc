"""Pure queue rules: recipient status model, retry schedule, reply-to-outcome classification."""
