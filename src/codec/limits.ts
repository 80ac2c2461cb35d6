/**
 * The largest packet MQTT can express: a one-byte fixed header, the four-byte Remaining Length's
 * largest value (268,435,455) [MQTT-2.2.3]. As a maximum packet size (the broker's or a client's):
 * no limit beyond the protocol's.
 */
export const PROTOCOL_MAX_PACKET_SIZE = 268_435_460
