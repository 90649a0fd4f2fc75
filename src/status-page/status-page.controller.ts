import { Controller, Get, Headers, NotFoundException, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { StatusPageAssets, type StatusPageAsset } from './status-page-assets.js';

// The part of Express's response this controller uses (the project has no @types/express).
interface AssetResponse {
  status(code: number): AssetResponse;
  setHeader(name: string, value: string): unknown;
  end(body?: Buffer): unknown;
}

/**
 * Everything the page loads comes from this origin: scripts, styles, images and API calls
 * ('self'), no inline script or style, no framing, no forms posting elsewhere.
 */
export const STATUS_PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The status page at `/` and its files under `/status-page/`. */
@ApiExcludeController()
@Controller()
export class StatusPageController {
  constructor(private readonly assets: StatusPageAssets) {}

  @Get()
  index(@Headers('if-none-match') ifNoneMatch: string | undefined, @Res() response: AssetResponse): void {
    send(this.assets.get('index.html')!, ifNoneMatch, response);
  }

  @Get('status-page/:file')
  asset(@Param('file') file: string, @Headers('if-none-match') ifNoneMatch: string | undefined, @Res() response: AssetResponse): void {
    const asset = this.assets.get(file);
    if (!asset) throw new NotFoundException(`file: no status page asset ${JSON.stringify(file)}`);
    send(asset, ifNoneMatch, response);
  }
}

function send(asset: StatusPageAsset, ifNoneMatch: string | undefined, response: AssetResponse): void {
  response.setHeader('Content-Security-Policy', STATUS_PAGE_CSP);
  response.setHeader('X-Content-Type-Options', 'nosniff');
  response.setHeader('Referrer-Policy', 'no-referrer');
  // The files keep their names from one release to the next: the browser may keep them but asks
  // every time whether they changed (a 304 costs a few bytes), so a deploy never shows a stale page.
  response.setHeader('Cache-Control', 'no-cache');
  response.setHeader('ETag', asset.etag);
  if (ifNoneMatch !== undefined && ifNoneMatch.split(',').some((tag) => tag.trim() === asset.etag)) {
    response.status(304).end();
    return;
  }
  response.setHeader('Content-Type', asset.contentType);
  response.setHeader('Content-Length', String(asset.body.length));
  response.status(200).end(asset.body);
}
