/** `GET /staleness`: the staleness report as JSON (src/staleness/report.ts; docs/replication-and-staleness.md). */
import type { StalenessReport } from './report';
import type { AdminRoute } from '../admin/server';

export function stalenessRoute(report: () => StalenessReport): AdminRoute {
  return (req, res) => {
    const body = JSON.stringify(report(), null, 2) + '\n';
    res.writeHead(200, {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      'content-length': Buffer.byteLength(body),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}
