// Mosquitto's Dynamic Security for the engine: the state and file format, ACL evaluation, the
// $CONTROL/dynamic-security/v1 API and the auth hooks that put them in front of the password/ACL files.
export {checkAccess, type Verdict, type Who} from './acl.js'
export {DynsecFileError, parseDynsecFile, serializeDynsec, type ParsedFile} from './config-file.js'
export {handleControl} from './control.js'
export {CONTROL_TOPIC, DEFAULT_ITERATIONS, Dynsec, newPassword, RESPONSE_TOPIC, type DynsecOptions} from './engine.js'
export {dynsecHooks, type DynsecHookOptions} from './hooks.js'
export {emptyState, type DynsecState} from './types.js'
