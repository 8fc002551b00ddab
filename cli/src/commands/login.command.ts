import { userInfo } from 'node:os'
import type { Command } from 'commander'
import { mintDevToken } from '@argmax/auth'
import { parseLoginRole, parseTtl } from '../auth/roles.ts'
import { storeToken } from '../auth/token-file.ts'
import { readDevSecret } from '../stack/dev-secret.ts'
import { pathsOf, type StackCommandOptions } from './stack-options.ts'

interface LoginOptions extends StackCommandOptions {
  role: string
  subject?: string
  ttl: string
  printOnly?: boolean
}

export function registerLoginCommand(program: Command): void {
  program
    .command('login')
    .description(
      "mint a dev token (HS256, signed with the local stack's secret) and use it for later commands",
    )
    .option('--role <role>', 'admin, user, internal or analyst', 'admin')
    .option(
      '--subject <name>',
      'who the token speaks for (resource owner); default: your OS user name',
    )
    .option('--ttl <duration>', 'lifetime, e.g. 30m, 12h, 7d', '12h')
    .option('--print-only', 'print the token without storing it in <data-dir>/token')
    .option(
      '--data-dir <dir>',
      'the stack whose secret signs it (default: <repo>/.argmax, or ARGMAX_DATA_DIR)',
    )
    .action(async (options: LoginOptions) => {
      const paths = pathsOf(options)
      const role = parseLoginRole(options.role)
      const ttlSeconds = parseTtl(options.ttl)
      const subject = options.subject ?? userInfo().username
      const token = await mintDevToken({
        secret: readDevSecret(paths.jwtSecretFile),
        subject,
        roles: [role],
        ttl: ttlSeconds,
      })
      if (!options.printOnly) {
        storeToken(paths.tokenFile, token)
        console.error(
          `logged in as ${subject} (${role}) for ${options.ttl}; token stored in ${paths.tokenFile}`,
        )
      }
      // Only the token on stdout: `export ARGMAX_TOKEN=$(argmax login --print-only)` works.
      console.log(token)
    })
}
