import { SetMetadata } from '@nestjs/common';

export const PUBLIC_ROUTE = 'api:public';
export const OPERATOR_ONLY = 'api:operator-only';

/** No API key needed (health, metrics). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_ROUTE, true);
/** Only operator keys; an account key gets 403. */
export const OperatorOnly = (): MethodDecorator & ClassDecorator =>
  SetMetadata(OPERATOR_ONLY, true);
