// The seeds of this target's randomized tests come from the shared
// TestSupport target, re-exported so every file here sees `TestSeeds`.
@_exported import TestSupport
