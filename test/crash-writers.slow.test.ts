// Crash consistency of the commands that write objects and refs (docs/reliability.md).
import { crashSuite } from './helpers/crash-suite.js';

crashSuite(['commit', 'pkg add', 'gen build']);
