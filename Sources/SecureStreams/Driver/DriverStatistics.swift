// The counters every driver publishes, kept by the shared DriverLoop.

/// A snapshot of a driver's counters and of what the kernel granted, read
/// from any thread (`DispatchDriver.statistics`, `LibUVDriver.statistics`).
///
/// The ``DriverLoop`` counts on its loop thread and publishes a copy after
/// every wake-up (and when it stops), so a snapshot is one consistent
/// instant of the loop. Counters a driver cannot produce stay zero (the
/// Dispatch driver never queues copies; libuv reads its own datagrams).
public struct DriverStatistics: Sendable, Hashable {
    /// Datagrams handed to the endpoint (a GRO buffer counts each segment;
    /// an empty datagram counts).
    public var datagramsReceived: UInt64 = 0
    public var bytesReceived: UInt64 = 0
    /// recvmmsg calls that returned at least one message.
    public var receiveBatches: UInt64 = 0
    /// Received buffers that GRO had coalesced from more than one datagram.
    public var coalescedReceives: UInt64 = 0
    /// Receive errors other than would-block (ICMP reports, a source of an
    /// unknown family), ignored.
    public var receiveErrors: UInt64 = 0
    /// Datagrams truncated by the kernel, dropped.
    public var truncatedDatagrams: UInt64 = 0
    /// Datagrams the kernel accepted (a GSO send counts each segment).
    public var datagramsSent: UInt64 = 0
    public var bytesSent: UInt64 = 0
    /// sendmmsg calls that sent at least one message.
    public var sendBatches: UInt64 = 0
    /// Messages sent as one UDP GSO buffer of several datagrams.
    public var gsoSends: UInt64 = 0
    /// Hard send errors; the datagrams of the failed message were dropped
    /// (the endpoint's recovery resends what mattered).
    public var sendErrors: UInt64 = 0
    /// Datagrams dropped by those errors.
    public var datagramsDropped: UInt64 = 0
    /// Times the socket would block: sending resumes when it is writable.
    public var wouldBlock: UInt64 = 0
    /// Datagrams copied onto a driver's own wait-for-writable path after a
    /// would-block (libuv's `uv_udp_send`).
    public var queuedDatagrams: UInt64 = 0
    /// Datagrams dropped because that path was full (the core recovers them as losses).
    public var queueDrops: UInt64 = 0
    /// `execute` bodies that ran.
    public var bodiesRun: UInt64 = 0
    /// `execute` bodies dropped because the driver was shut down.
    public var bodiesDropped: UInt64 = 0
    /// Whether sends may use UDP GSO: probed at start, switched off for good
    /// if the kernel refuses a GSO send.
    public var isGSOActive = false
    /// Whether UDP GRO was switched on at start.
    public var isGROActive = false
    /// SO_RCVBUF / SO_SNDBUF as the kernel granted them (Linux reports
    /// twice the requested size, its bookkeeping included).
    public var receiveBufferBytes = 0
    public var sendBufferBytes = 0

    public init() {}
}
