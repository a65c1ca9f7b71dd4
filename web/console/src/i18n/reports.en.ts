// The reports dashboard's strings in English (see reports.zh-CN.ts).
export default {
  filters: {
    start: 'From', end: 'To', granularity: 'Period', allCommunities: 'All communities', allKinds: 'All kinds',
    day: 'Day', week: 'Week', month: 'Month', shortcutWeek: 'Last 7 days', shortcutMonth: 'Last 30 days', shortcutQuarter: 'Last 90 days',
  },
  tiles: {
    created: 'Tickets', firstResponse: '15-min response rate', complaintClosure: 'Complaint closure', completeness: 'Complete records',
    csat: 'CSAT', meanRating: 'Average rating', returnVisit: 'Follow-up rate', backlog: 'Backlog at end',
  },
  details: {
    created: '{from} to {to}', firstResponse: 'Met {met} · late {breached} · target {target}',
    complaintClosure: 'Complaints {created} · closed {closed} · target {target}',
    completeness: 'Closed {closed} · complete {complete} · target {target}', csat: 'Ratings of 4–5 · {ratings} ratings',
    meanRating: 'Out of 5 · {ratings} ratings', returnVisit: 'Rated or visited ÷ {closed} closed',
    backlog: 'Open tickets at the end of {date}',
  },
  tone: { good: 'On target', bad: 'Below target' },
  charts: {
    firstResponse: '15-minute first-response rate', complaintClosure: 'Complaint closure rate', completeness: 'Complete records',
    csat: 'CSAT trend', kinds: 'Intake by kind', channels: 'Channels', resolutionByKind: 'Resolution time by kind',
  },
  hints: {
    firstResponse: 'Dashed line: target {target}', complaintClosure: 'Dashed line: target {target}', completeness: 'Dashed line: target {target}',
    csat: 'Share of ratings of 4–5', kinds: 'What each period\'s tickets were about', channels: 'Where each period\'s tickets came from', resolutionByKind: 'Filed to resolved, in hours',
  },
  series: {
    period: 'Period', kind: 'Kind', rate: 'Rate', closure: 'Closure', completeness: 'Complete', csat: 'CSAT',
    target: 'Target', median: 'Median', p90: '90th percentile', hours: 'hours',
  },
  staff: {
    title: 'Staff workload and quality', hint: 'Over the dates chosen; not filtered by community or kind', empty: 'No staff work in these dates',
    columns: {
      name: 'Staff', assigned: 'Assigned', resolved: 'Resolved', firstResponses: 'First responses', firstResponseMedian: 'Median first response',
      resolutionMedian: 'Median resolution', ratings: 'Ratings', csat: 'CSAT', reopened: 'Reopened', breaches: 'Late',
      openNow: 'Open now',
    },
  },
  ranking: {
    title: 'Community ranking', hint: 'Score: first response, complaint closure and CSAT 30% each, few complaints per 100 units 10%',
    empty: 'No communities yet', red: 'Top', black: 'Bottom', notScored: 'Not enough data to rank',
    columns: {
      rank: 'Rank', name: 'Community', score: 'Score', firstResponse: 'First response', complaintClosure: 'Complaint closure',
      csat: 'CSAT', complaintsPer100: 'Complaints per 100 units', complaints: 'Complaints', created: 'Tickets', units: 'Units',
    },
  },
  overdue: { tag: 'Overdue {n}', hint: 'Of these, the ones past their resolution deadline' },
  today: {
    title: 'Today', asOf: 'As of {time}', open: 'Open tickets', created: 'New today', atRisk: 'About to breach', breached: 'Breached',
    hints: { open: 'Not yet done', created: 'Filed today', atRisk: 'In their warning time', breached: 'Open and past a deadline' },
  },
  renewal: {
    title: 'Satisfaction and renewal', hint: 'Each community\'s monthly CSAT beside its fee collection and renewal rates', start: 'From month', end: 'To month',
    rangeTooLong: 'At most {months} months at a time', collection_rate: 'Collection rate', renewal_rate: 'Renewal rate', csat: 'CSAT',
    trend: 'Trend line', r: 'Correlation r = {r} over {pairs} samples', few: 'Too few samples ({pairs}, 3 needed)',
    noPoints: 'No community has both CSAT and {rate} in these months', risks: 'Renewal risks', risksHint: 'CSAT in {last} down 10% or more on {previous}',
    noRisk: 'No community at risk', record: 'Record fee rates',
    columns: {
      name: 'Community', month: 'Month', ratings: 'Ratings', csat: 'CSAT', meanRating: 'Average rating', collection: 'Collection',
      renewal: 'Renewal', previous: 'CSAT before', last: 'CSAT last quarter', change: 'Change',
    },
  },
  fees: {
    title: 'Property-fee rates', percentColumn: '{name} (%)', hint: 'Percentages from 0 to 100; blank means not given. Communities with both blank are not sent.', blank: 'Blank',
    invalid: 'Enter a number from 0 to 100', fillOne: 'Fill in a rate for at least one community', saved: 'Saved the rates of {n} communities',
    import: 'Import file', template: 'Template', templateName: 'fee-rates-template', imported: '{n} recorded',
    importErrors: ', {n} problems not imported', fileType: 'Choose a CSV or XLSX file', line: 'Line', field: 'Column', problem: 'Problem',
    fields: { community: 'Community', month: 'Month', collection_rate: 'Collection', renewal_rate: 'Renewal', header: 'Header', file: 'File' },
    problems: {
      unknownCommunity: 'No community named “{name}”', community: 'Which community?', month: 'A month as YYYY-MM',
      rate: 'A rate from 0 to 1, or a percentage', noRate: 'Give a collection or renewal rate', header: 'The first row must be 小区, 月份, 收缴率, 续费率',
    },
  },
  ticketExport: {
    button: 'Export tickets', xlsx: 'Excel (.xlsx)', csv: 'CSV (.csv)', queued: 'Queued…', running: 'Building {s}s',
    done: 'Exported {rows} tickets', rows: '{rows} tickets', failed: 'The export failed ({error}); try again', timeout: 'Still building: try again later',
  },
  duration: { d: '{n}d', h: '{n}h', m: '{n}min', s: '{n}s' },
  export: 'Export', exported: 'Exported {name}', noData: 'No data', rangeTooLong: 'At most {days} days at a time: choose a shorter range',
}
