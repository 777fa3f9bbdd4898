// Setup file of the `event-store-pglite` jest project: the event-store suite runs a second time on the
// embedded PGlite, whatever TEST_DATABASE_URL says (STYLE §6).
process.env.LEDGER_TEST_FORCE_PGLITE = '1';
