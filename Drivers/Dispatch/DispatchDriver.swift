// SecureStreamsDispatch: UDP on a DispatchSource (epoll on Linux).
public import SecureStreams
