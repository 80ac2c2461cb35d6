import {Flags} from '@oclif/core'

/** The authentication plugin flags of `broker start` (see cli/broker/plugins.ts for what they load, and in which order). */
export function pluginFlags() {
  return {
    plugin: Flags.string({description: 'Load an authentication plugin: a JavaScript ES module (a path, or a package name) whose default export is (options, context) => hooks, or midge:http / midge:jwt. Repeatable: plugins are asked in order, the first to decide wins, then the password file and ACL. e.g. --plugin ./only-ok.mjs', multiple: true, helpValue: '<module>'}),
    'plugin-opt': Flags.string({description: 'An option NAME=VALUE given to every --plugin module (in a config file: plugin_opt_NAME VALUE after its plugin line). Repeatable. e.g. --plugin-opt realm=factory', multiple: true, helpValue: '<name=value>'}),
    'plugin-timeout': Flags.integer({description: 'Milliseconds each plugin call (and each HTTP or JWKS request) may take; a call that takes longer is a refusal, logged (fail closed). Default 5000. e.g. --plugin-timeout 2000', min: 1, env: 'MIDGE_PLUGIN_TIMEOUT'}),
    'auth-http': Flags.string({description: 'Ask this HTTP service whether a client may connect, publish and subscribe (POST JSON; 2xx allows, 4xx denies, see the README). e.g. --auth-http http://127.0.0.1:8080/mqtt/auth', env: 'MIDGE_AUTH_HTTP', helpValue: '<url>'}),
    'auth-jwt-secret': Flags.string({description: 'Clients log in with a JWT as password, signed with this HMAC secret (HS256/384/512). Better from MIDGE_AUTH_JWT_SECRET than on the command line. e.g. MIDGE_AUTH_JWT_SECRET=... midge broker start', env: 'MIDGE_AUTH_JWT_SECRET', helpValue: '<secret>', exclusive: ['auth-jwt-key', 'auth-jwt-jwks']}),
    'auth-jwt-key': Flags.string({description: 'Clients log in with a JWT as password, signed by the private half of this PEM public key or certificate (RSA, EC, Ed25519). Re-read on SIGHUP. e.g. --auth-jwt-key /etc/midge/jwt.pub', helpValue: '<file>', exclusive: ['auth-jwt-secret', 'auth-jwt-jwks']}),
    'auth-jwt-jwks': Flags.string({description: 'Clients log in with a JWT as password, signed by a key of this JWKS (a JSON file, re-read on SIGHUP, or an https URL, fetched again for an unknown key id). e.g. --auth-jwt-jwks https://idp.example.com/.well-known/jwks.json', env: 'MIDGE_AUTH_JWT_JWKS', helpValue: '<file|url>', exclusive: ['auth-jwt-secret', 'auth-jwt-key']}),
    'auth-jwt-audience': Flags.string({description: 'The JWT\'s aud must include this. e.g. --auth-jwt-audience mqtt', env: 'MIDGE_AUTH_JWT_AUDIENCE', helpValue: '<aud>'}),
    'auth-jwt-issuer': Flags.string({description: 'The JWT\'s iss must be this. e.g. --auth-jwt-issuer https://idp.example.com/', env: 'MIDGE_AUTH_JWT_ISSUER', helpValue: '<iss>'}),
  }
}
