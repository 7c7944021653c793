// The app a new user writes after installing sockguard: copied into a temporary app directory by
// install.test.ts and run there with plain `node`, so "sockguard" and "socket.io" resolve to the
// app's own installed copies. Prints one JSON line with what it saw.
import { createServer } from "node:http";
import { Server } from "socket.io";
import { DENIAL_CODES, DENIAL_MESSAGES, PolicyLoadError, sockguard } from "sockguard";

const POLICY = {
  version: 1,
  connection: { origins: ["https://app.example"] },
  namespaces: { "/": { auth: "none", events: { note: { schema: { $ref: "schemas/note.json" } } } } },
};

const httpServer = createServer();
const io = new Server(httpServer);
const report = {};
try {
  const guard = await sockguard(io, { policy: POLICY, baseDir: process.cwd(), watch: false });
  await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  const { port } = httpServer.address();
  const handshake = (origin) =>
    fetch(`http://127.0.0.1:${port}/socket.io/?EIO=4&transport=polling`, { headers: { origin } });
  report.allowedStatus = (await handshake("https://app.example")).status;
  const foreign = await handshake("https://evil.example");
  report.foreignStatus = foreign.status;
  report.foreignBody = await foreign.text();

  const broken = await sockguard(new Server(), { policy: { version: 1, namspaces: {} } }).catch(
    (error) => error,
  );
  report.policyLoadError = broken instanceof PolicyLoadError;
  report.codes = DENIAL_CODES.length === Object.keys(DENIAL_MESSAGES).length ? DENIAL_CODES : [];
  await guard.close();
} catch (error) {
  report.error = error instanceof Error ? error.message : String(error);
}
io.close();
httpServer.close();
console.log(JSON.stringify(report));
