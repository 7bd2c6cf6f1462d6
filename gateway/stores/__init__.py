"""Where counters live: in the gateway process, or in Redis shared by every replica."""
