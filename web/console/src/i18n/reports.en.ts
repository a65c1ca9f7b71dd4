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
    csat: 'CSAT trend', channels: 'Channels', resolutionByKind: 'Resolution time by kind',
  },
  hints: {
    firstResponse: 'Dashed line: target {target}', complaintClosure: 'Dashed line: target {target}', completeness: 'Dashed line: target {target}',
    csat: 'Share of ratings of 4–5', channels: 'Where each period\'s tickets came from', resolutionByKind: 'Filed to resolved, in hours',
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
  duration: { d: '{n}d', h: '{n}h', m: '{n}min', s: '{n}s' },
  export: 'Export', exported: 'Exported {name}', noData: 'No data', rangeTooLong: 'At most {days} days at a time: choose a shorter range',
}
