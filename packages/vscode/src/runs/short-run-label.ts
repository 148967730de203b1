/**
 * A run as a list row names it: local run ids (`20261121-185628-digits-14d7`, in local time) by their start
 * time (`18:56:28`, with the date when not today); cluster run ids (UUIDs) by their
 * first 8 hex digits. The full id stays in the row's tooltip. Pure, no `vscode`.
 */
export function shortRunLabel(id: string, now: Date): string {
  const local = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})-/.exec(id);
  if (local !== null) {
    const [y, mo, d, h, mi, s] = local.slice(1).map(Number) as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const at = new Date(y, mo - 1, d, h, mi, s);
    const two = (n: number): string => String(n).padStart(2, '0');
    const time = `${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}`;
    return at.toDateString() === now.toDateString()
      ? time
      : `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())} ${time}`;
  }
  if (/^[0-9a-f]{8}-[0-9a-f-]{27}$/i.test(id)) return id.slice(0, 8);
  return id;
}
