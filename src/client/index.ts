// The lean MQTT client used by `pub`, `sub` and `bench`: async/await over src/codec, no `mqtt` package.
export {connect, connectPacket} from './connect.js'
export {MqttClient} from './client.js'
export type {Message, PublishOptions, SubscribeRequest, SubscribeResult, DisconnectOptions} from './types.js'
export type {PublishAck} from './inflight.js'
export {ConnectError, ConnectionRefusedError, ConnectionLostError, ClientClosedError} from './errors.js'
export {parseBrokerUrl, transportTarget, DEFAULT_PORTS, type ClientOptions, type WillOptions, type TransportFactory,
  type TransportTarget, type Scheme, type ParsedUrl, type PacketTrace} from './options.js'
export {openTransport, describeTarget} from './transport.js'
export {shown, validateIdentity, validateTopicName, validateTopicFilter, topicMatches} from './topic.js'
