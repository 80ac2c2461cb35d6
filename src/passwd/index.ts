// The password-file module shared by `midge passwd` and the broker. Nothing here touches argv, env or
// the console.
export {ARGON2ID_DEFAULTS, PBKDF2_DEFAULTS} from './defaults.js'
export {PasswordFileError, PasswordInputError} from './errors.js'
export {hashPassword, looksHashed, parseHash, verifyPassword} from './hash.js'
export {PasswordFile, type ParseOptions} from './password-file.js'
export {loadPasswordFile, savePasswordFile} from './file-io.js'
export {validatePassword, validateUsername} from './validate.js'
export type {Argon2idHash, HashAlgorithm, HashOptions, PasswordHash, Pbkdf2Hash, Sha512Hash} from './types.js'
