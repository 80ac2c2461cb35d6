// pub-bulk.ts's 100k-message bursts against Debian's mosquitto.
import {bulkTests} from './pub-bulk.js'

bulkTests('mosquitto')
