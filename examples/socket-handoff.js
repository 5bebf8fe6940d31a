// Socket hand-off: a listener actor accepts TCP connections on loopback and
// hands each one to a process actor, which answers on it from its own
// process. Run with `node examples/socket-handoff.js` (needs the addon).
import net from 'node:net';
import { Actor, ActorExitRequest, ActorSystem } from 'thespis';

export class Answerer extends Actor {
  static module = import.meta.url; // this file is imported in the actor's process, so it starts no system there
  receiveMessage(message) {
    if (message?.socket instanceof net.Socket) {
      const socket = message.socket;
      socket.setEncoding('utf8');
      socket.on('data', (line) => socket.end(`process ${process.pid} heard: ${line.trim()}\n`));
    }
  }
}

export class Listener extends Actor {
  static module = import.meta.url;
  receiveMessage(message, sender) {
    if (message instanceof ActorExitRequest) return this.server?.close();
    if (!Array.isArray(message?.answerers)) return;
    let next = 0;
    // pauseOnConnect: nothing is read here; the answerer gets the connection untouched.
    this.server = net.createServer({ pauseOnConnect: true }, (socket) => {
      this.send(message.answerers[next++ % message.answerers.length], { socket });
    });
    this.server.listen(0, '127.0.0.1', () => this.send(sender, this.server.address().port));
  }
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const system = await ActorSystem.start({ base: 'processes' });
  try {
    const answerers = [await system.createActor(Answerer), await system.createActor(Answerer)];
    const listener = await system.createActor(Listener, { host: 'inline' });
    const port = await system.ask(listener, { answerers }, 5000);
    console.log(`system process ${process.pid} listening on 127.0.0.1:${port}`);
    for (const word of ['one', 'two', 'three']) {
      const socket = net.connect(port, '127.0.0.1', () => socket.write(`${word}\n`));
      let reply = '';
      socket.setEncoding('utf8').on('data', (chunk) => (reply += chunk));
      await new Promise((resolve) => socket.on('close', resolve));
      process.stdout.write(reply);
    }
  } finally {
    await system.shutdown();
  }
}
