import {Flags} from '@oclif/core'

/** The short form of a bridge on `broker start` (a mosquitto.conf `connection` section does the rest). */
export function bridgeFlags() {
  return {
    bridge: Flags.string({description: 'Bridge to another broker: mqtt://[user@]host[:port] or mqtts://... (Mosquitto\'s connection/address/remote_username). Its password comes from MIDGE_BRIDGE_PASSWORD or --bridge-password-file, never the URL. Needs --bridge-topic. e.g. --bridge mqtt://edge@cloud.example:1883', env: 'MIDGE_BRIDGE', helpValue: '<url>'}),
    'bridge-topic': Flags.string({description: 'A topic line of --bridge, as in mosquitto.conf: PATTERN [in|out|both] [QOS] [LOCAL_PREFIX] [REMOTE_PREFIX] (default out, QoS 0; "" for no prefix). Repeatable. e.g. --bridge-topic \'sensors/# out 1 "" site1/\'', multiple: true, helpValue: '<line>'}),
    'bridge-name': Flags.string({description: 'Name of --bridge (Mosquitto\'s connection NAME; the remote client id is HOSTNAME.NAME). Default bridge. e.g. --bridge-name cloud', helpValue: '<name>'}),
    'bridge-password-file': Flags.string({description: 'Read the password of --bridge from this file (its first line). e.g. --bridge-password-file /etc/midge/bridge.pw', helpValue: '<file>'}),
    'bridge-cafile': Flags.string({description: 'PEM CA certificates the mqtts:// remote of --bridge must chain to (default: Node\'s CA list). e.g. --bridge-cafile ca.crt', helpValue: '<file>'}),
    'bridge-protocol-version': Flags.option({options: ['mqttv31', 'mqttv311', 'mqttv50'] as const, description: 'MQTT version of --bridge (default mqttv311, as Mosquitto). e.g. --bridge-protocol-version mqttv50'})(),
  }
}
