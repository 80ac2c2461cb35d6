// strftime(3) in the C locale, one conversion at a time, as glibc prints it (mosquitto_sub's `@X` fields).
// The time is the local time of the process (TZ).

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday']
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December']

const pad = (n: number, width = 2, fill = '0') => String(n).padStart(width, fill)

function dayOfYear(d: Date): number {
  return Math.round((Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()) - Date.UTC(d.getFullYear(), 0, 1)) / 86_400_000)
}

/** ISO 8601 week number and week-based year. */
function isoWeek(d: Date): {week: number; year: number} {
  const t = new Date(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()))
  const wday = (d.getDay() + 6) % 7 // Monday = 0
  t.setUTCDate(t.getUTCDate() - wday + 3) // the Thursday of this week decides the year
  const year = t.getUTCFullYear()
  const week = 1 + Math.floor((t.getTime() - Date.UTC(year, 0, 1)) / (7 * 86_400_000))
  return {week, year}
}

function offset(d: Date): string {
  const minutes = -d.getTimezoneOffset()
  const sign = minutes < 0 ? '-' : '+'
  const abs = Math.abs(minutes)
  return `${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`
}

function zoneName(d: Date): string {
  const tz = process.env.TZ
  if (tz === undefined || tz === '' || /^(UTC|UCT|Etc\/UTC|Universal|Zulu)0?$/i.test(tz.replace(/^:/, ''))) {
    if (d.getTimezoneOffset() === 0) return 'UTC'
  }
  const part = new Intl.DateTimeFormat('en-US', {timeZoneName: 'short'}).formatToParts(d).find((p) => p.type === 'timeZoneName')
  return part?.value ?? ''
}

/** The text of one strftime conversion `%c` for date d (unknown conversions print as themselves, as glibc does). */
export function strftime1(c: string, d: Date): string {
  const h12 = d.getHours() % 12 || 12
  switch (c) {
    case 'a': return DAYS[d.getDay()].slice(0, 3)
    case 'A': return DAYS[d.getDay()]
    case 'b': case 'h': return MONTHS[d.getMonth()].slice(0, 3)
    case 'B': return MONTHS[d.getMonth()]
    case 'c': return `${strftime1('a', d)} ${strftime1('b', d)} ${strftime1('e', d)} ${strftime1('T', d)} ${d.getFullYear()}`
    case 'C': return pad(Math.floor(d.getFullYear() / 100))
    case 'd': return pad(d.getDate())
    case 'D': case 'x': return `${pad(d.getMonth() + 1)}/${pad(d.getDate())}/${pad(d.getFullYear() % 100)}`
    case 'e': return pad(d.getDate(), 2, ' ')
    case 'F': return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`
    case 'g': return pad(isoWeek(d).year % 100)
    case 'G': return String(isoWeek(d).year)
    case 'H': return pad(d.getHours())
    case 'I': return pad(h12)
    case 'j': return pad(dayOfYear(d) + 1, 3)
    case 'k': return pad(d.getHours(), 2, ' ')
    case 'l': return pad(h12, 2, ' ')
    case 'm': return pad(d.getMonth() + 1)
    case 'M': return pad(d.getMinutes())
    case 'n': return '\n'
    case 'p': return d.getHours() < 12 ? 'AM' : 'PM'
    case 'P': return d.getHours() < 12 ? 'am' : 'pm'
    case 'r': return `${pad(h12)}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${strftime1('p', d)}`
    case 'R': return `${pad(d.getHours())}:${pad(d.getMinutes())}`
    case 's': return String(Math.floor(d.getTime() / 1000))
    case 'S': return pad(d.getSeconds())
    case 't': return '\t'
    case 'T': case 'X': return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
    case 'u': return String(d.getDay() || 7)
    case 'U': return pad(Math.floor((dayOfYear(d) + 7 - d.getDay()) / 7))
    case 'V': return pad(isoWeek(d).week)
    case 'w': return String(d.getDay())
    case 'W': return pad(Math.floor((dayOfYear(d) + 7 - ((d.getDay() + 6) % 7)) / 7))
    case 'y': return pad(d.getFullYear() % 100)
    case 'Y': return String(d.getFullYear())
    case 'z': return offset(d)
    case 'Z': return zoneName(d)
    case '%': return '%'
    default: return `%${c}`
  }
}
