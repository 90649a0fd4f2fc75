import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/** OpenAPI generated from the controllers and DTOs: the UI at /docs, the document at /docs-json. */
export function setUpOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('tweet-ingest')
    .setDescription(
      'Ingests gzipped tweet archives from a bucket into PostgreSQL. /backfills, /files and /ingest need ' +
        '`Authorization: Bearer <ADMIN_TOKEN>`; /status, /health and /metrics are open to ops tooling.',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' })
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, config), { jsonDocumentUrl: 'docs-json' });
}
