import { x } from '@ledger/margin-domain'; console.log('ok', x);
