import {
  type CanActivate,
  type ExecutionContext,
  ForbiddenException,
  Injectable,
  NotFoundException,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { ApiPrincipal } from '@ledger/ledger-application';
import { OPERATOR_ONLY, PUBLIC_ROUTE } from './auth.decorators';
import { ApiKeyService } from './api-key.service';

/** The request as the API sees it: Fastify's, without importing Fastify. */
export interface ApiRequest {
  id: string;
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  params?: Record<string, string | undefined>;
  body?: unknown;
  principal?: ApiPrincipal;
}

export const MAX_API_KEY_LENGTH = 256;

/** The key from `Authorization: Bearer <key>` or `X-API-Key: <key>`. */
export function apiKeyOf(headers: ApiRequest['headers']): string | undefined {
  const authorization = headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match?.[1]) return match[1];
  }
  const header = headers['x-api-key'];
  return typeof header === 'string' && header.trim() !== '' ? header.trim() : undefined;
}

/** What another account's key sees: the same 404 as for an account that does not exist. */
export function accountNotFound(accountId: string): NotFoundException {
  return new NotFoundException(`account ${accountId} not found`);
}

/** An account key may act only on its own account; anything else answers as if the account did not exist. */
export function assertAccountAccess(principal: ApiPrincipal | undefined, accountId: string): void {
  if (!principal) throw new UnauthorizedException('an API key is required');
  if (principal.role === 'account' && principal.accountId !== accountId)
    throw accountNotFound(accountId);
}

/**
 * Global guard: every route needs a valid API key (401 otherwise) unless it is @Public(); @OperatorOnly() routes
 * refuse account keys (403); a route with an `:accountId` parameter answers 404 to another account's key.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeyService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const request = context.switchToHttp().getRequest<ApiRequest>();
    const key = apiKeyOf(request.headers);
    if (key === undefined)
      throw new UnauthorizedException('an API key is required (Authorization: Bearer <key>)');
    const principal = key.length > MAX_API_KEY_LENGTH ? null : await this.keys.resolve(key);
    if (!principal) throw new UnauthorizedException('the API key is not valid');
    request.principal = principal;
    if (
      this.reflector.getAllAndOverride<boolean>(OPERATOR_ONLY, targets) &&
      principal.role !== 'operator'
    ) {
      throw new ForbiddenException('this endpoint needs an operator key');
    }
    const accountId = request.params?.accountId;
    if (accountId !== undefined) assertAccountAccess(principal, accountId);
    return true;
  }
}
