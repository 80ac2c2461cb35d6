// The mosquitto.conf form of Dynamic Security: a `plugin` line naming the dynamic security library,
// then its plugin_opt_config_file; options of other plugins stay warnings.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {MosquittoConfError, parseMosquittoConf} from '../../src/cli/broker/mosquitto-conf.js'

describe('mosquitto.conf: the dynamic security plugin', () => {
  it('plugin .../mosquitto_dynamic_security.so + plugin_opt_config_file', () => {
    const {config, warnings} = parseMosquittoConf('listener 1883\nplugin /usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so\nplugin_opt_config_file /etc/mosquitto/dynamic-security.json\n')
    assert.equal(config.dynsecFile, '/etc/mosquitto/dynamic-security.json')
    assert.deepEqual(warnings, [])
  })

  it('another plugin\'s config_file is not taken for it: it is that plugin\'s option', () => {
    const {config, warnings} = parseMosquittoConf('plugin ./other-plugin.mjs\nplugin_opt_config_file /x.json\n')
    assert.equal(config.dynsecFile, undefined)
    assert.deepEqual(config.plugins?.map((p) => p.options), [{config_file: '/x.json'}])
    assert.deepEqual(warnings, [])
  })

  it('other plugin_opt_ lines of the dynamic security plugin are warnings', () => {
    const {config, warnings} = parseMosquittoConf('plugin ./mosquitto_dynamic_security.so\nplugin_opt_config_file d.json\nplugin_opt_verbose true\n', {source: 'm.conf'})
    assert.equal(config.dynsecFile, 'd.json')
    assert.deepEqual(warnings.map((w) => w.line), [3])
  })

  it('the plugin without plugin_opt_config_file is not activated, with a warning on its line', () => {
    const {config, warnings} = parseMosquittoConf('listener 1883\nplugin /usr/lib/mosquitto_dynamic_security.so\n', {source: 'm.conf'})
    assert.equal(config.dynsecFile, undefined)
    assert.deepEqual(warnings, [{file: 'm.conf', line: 2, message: 'the dynamic security plugin has no plugin_opt_config_file: it is not activated (as in Mosquitto)'}])
  })

  it('two config files for the plugin are an error with the line', () => {
    assert.throws(() => parseMosquittoConf('plugin ./mosquitto_dynamic_security.so\nplugin_opt_config_file a\nplugin_opt_config_file b\n', {source: 'm.conf'}),
      (e: unknown) => e instanceof MosquittoConfError && /m\.conf:3: .*duplicate plugin_opt_config_file/.test(e.message))
  })
})
