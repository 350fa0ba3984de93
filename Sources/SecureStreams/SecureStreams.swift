// The SecureStreams module: everything above the sans-IO core that touches
// the world (files today; drivers, the async API and policies later). It
// re-exports the core, so `import SecureStreams` is all an application needs.
@_exported public import SecureStreamsCore
