import type { ApiContext } from './api-context.ts'

/** The `--json` flag of every API command. */
export interface JsonOption {
  json?: boolean
}

/**
 * How an API command prints what it got: as JSON (its `--json`, or ARGMAX_JSON=1 for every
 * command) or in its human form; a page of a listing ends with the flag that fetches the next.
 */
export function commandOutput(ctx: Pick<ApiContext, 'json'>) {
  // `ctx.json` is read at each call: the context resolves lazily, when a command runs.
  const asJson = (options: JsonOption) => Boolean(options.json) || ctx.json
  const print = (options: JsonOption, value: unknown, human: () => string) =>
    console.log(asJson(options) ? JSON.stringify(value, null, 2) : human())
  const printPage = <T>(
    options: JsonOption,
    page: { items: T[]; nextCursor?: string | null | undefined },
    render: (items: T[]) => string,
  ) =>
    print(options, page, () => {
      const rows = render(page.items)
      return page.nextCursor ? `${rows}\n(more: --cursor ${page.nextCursor})` : rows
    })
  return { asJson, print, printPage }
}
