// Logging in with the `mqtt` package (a client we did not write) to a broker under test.
import assert from 'node:assert/strict'
import {after} from 'node:test'
import mqtt, {type IClientOptions} from 'mqtt'

/** Connects (ended when the test file ends), or returns the CONNACK code of the refusal. */
export async function login(broker: {url: string}, options: IClientOptions = {}): Promise<mqtt.MqttClient | number> {
  try {
    const client = await mqtt.connectAsync(broker.url, {reconnectPeriod: 0, connectTimeout: 20_000, ...options})
    after(() => client.end(true))
    return client
  } catch (error) {
    const code = (error as {code?: number}).code
    if (typeof code !== 'number') throw error
    return code
  }
}

/** Connects, failing the test with the refusal's code if the broker refuses. */
export async function connected(broker: {url: string}, options: IClientOptions = {}): Promise<mqtt.MqttClient> {
  const c = await login(broker, options)
  assert.equal(typeof c, 'object', `refused with ${String(c)}`)
  return c as mqtt.MqttClient
}
