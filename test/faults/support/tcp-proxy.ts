import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy between the service and PostgreSQL, so that a test can take the database away
 * from one service without touching the shared PostgreSQL server other tests use. `cut()`
 * destroys every open connection and stops listening (new connections are refused, as with a
 * database that is down); `restore()` listens again on the same port.
 */
export class TcpProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private boundPort = 0;
  /** Connections accepted since the start: shows the service reconnected. */
  connectionsAccepted = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  get port(): number {
    return this.boundPort;
  }

  async start(port = 0): Promise<number> {
    const server = createServer((client) => {
      this.connectionsAccepted += 1;
      const upstream = createConnection({ host: this.targetHost, port: this.targetPort });
      this.track(client);
      this.track(upstream);
      client.pipe(upstream);
      upstream.pipe(client);
      // Either side failing or closing ends both: the service must see a dropped connection.
      const end = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    const address = server.address();
    this.boundPort = typeof address === 'object' && address ? address.port : port;
    return this.boundPort;
  }

  /** The database goes away: open connections are reset and new ones refused. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The database is back on the same address. */
  async restore(): Promise<void> {
    if (this.server) return;
    await this.start(this.boundPort);
  }

  async stop(): Promise<void> {
    await this.cut();
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
  }
}
