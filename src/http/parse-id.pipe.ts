import { BadRequestException, Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';

// Ledger and backfill ids are PostgreSQL bigints: up to 19 digits; 18 keeps them below 2^63.
const ID = /^[1-9]\d{0,17}$/;

/** A path id as a decimal string (ids are bigint, so never a JS number); 400 naming the parameter. */
@Injectable()
export class ParseIdPipe implements PipeTransform<string, string> {
  transform(value: string, metadata: ArgumentMetadata): string {
    if (typeof value !== 'string' || !ID.test(value)) {
      throw new BadRequestException(`${metadata.data ?? 'id'}: must be a positive whole number`);
    }
    return value;
  }
}
