"""When does it pay? Claims, their odds over the plausible worlds, and where they flip."""
