// Crash consistency of switch, gc and pull (docs/reliability.md).
import { crashSuite } from './helpers/crash-suite.js';

crashSuite(['switch', 'gc', 'pull']);
