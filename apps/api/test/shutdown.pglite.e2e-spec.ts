/**
 * Goal: the shutdown suite once more on the embedded PGlite, the database `npm start` uses by default, whatever
 * TEST_DATABASE_URL says (jest gives each test file its own copy of process.env; the suite opens its database in
 * beforeAll, after this line has run).
 */
import './shutdown.e2e-spec';

process.env.LEDGER_TEST_FORCE_PGLITE = '1';
