// SecureStreamsLibUV: uv_udp_t and uv_timer_t.
public import SecureStreams
