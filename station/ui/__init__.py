"""Everything Qt: the window, its views, and the bridge from the event bus to Qt signals."""
