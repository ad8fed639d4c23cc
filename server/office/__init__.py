"""The district office's work on the hub: its reads, exports and writes, one module each."""
