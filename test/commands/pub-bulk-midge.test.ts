// pub-bulk.ts's 100k-message bursts against our own broker.
import {bulkTests} from './pub-bulk.js'

bulkTests('midge')
