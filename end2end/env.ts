// Where the suite's servers listen. Inside the private network namespace that `make test` makes every
// port is free; MESHCALL_E2E_PORT lets a run elsewhere move them.
export const PORT = Number(process.env.MESHCALL_E2E_PORT ?? 18080);
export const BASE_URL = `http://127.0.0.1:${PORT}`;
// A second server with a tiny room limit, for the "room is full" scenario.
export const SMALL_ROOM_PORT = PORT + 1;
export const SMALL_ROOM_LIMIT = 2;
export const SMALL_ROOM_URL = `http://127.0.0.1:${SMALL_ROOM_PORT}`;
// Nothing listens here: the "server unreachable" scenario points the app's signaling at it.
export const CLOSED_PORT = PORT + 9;
