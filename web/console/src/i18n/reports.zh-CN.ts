// The reports dashboard's strings (merged into the locale under `reports` in i18n/index.ts). Every key here exists in
// reports.en.ts too, with the same {params} (tests/reports.test.ts). vue-i18n reads { } @ | $ as syntax: braces only
// for {params}, and no literal @ or |.
export default {
  filters: {
    start: '开始日期', end: '结束日期', granularity: '统计周期', allCommunities: '全部小区', allKinds: '全部类型',
    day: '日', week: '周', month: '月', shortcutWeek: '近 7 天', shortcutMonth: '近 30 天', shortcutQuarter: '近 90 天',
  },
  tiles: {
    created: '工单总数', firstResponse: '15分钟响应达标率', complaintClosure: '投诉闭环率', completeness: '记录完整率',
    csat: '满意度 CSAT', meanRating: '平均评分', returnVisit: '回访率', backlog: '期末积压',
  },
  details: {
    created: '{from} 至 {to}', firstResponse: '达标 {met} · 超时 {breached} · 目标 {target}',
    complaintClosure: '投诉 {created} · 已闭环 {closed} · 目标 {target}',
    completeness: '已关闭 {closed} · 完整 {complete} · 目标 {target}', csat: '4–5 分占比 · 共 {ratings} 条评价',
    meanRating: '满分 5 分 · 共 {ratings} 条评价', returnVisit: '已评价或已回访 ÷ 已关闭 {closed} 单',
    backlog: '截至 {date} 未完成的工单',
  },
  tone: { good: '达标', bad: '未达标' },
  charts: {
    firstResponse: '15分钟首次响应达标率', complaintClosure: '投诉闭环率', completeness: '记录完整率',
    csat: '满意度（CSAT）趋势', channels: '来源渠道', resolutionByKind: '各类型解决时长',
  },
  hints: {
    firstResponse: '虚线为目标 {target}', complaintClosure: '虚线为目标 {target}', completeness: '虚线为目标 {target}',
    csat: '4–5 分评价占比', channels: '每个周期新建工单的来源', resolutionByKind: '从报事到处理完成，单位：小时',
  },
  series: {
    period: '周期', kind: '工单类型', rate: '达标率', closure: '闭环率', completeness: '完整率', csat: 'CSAT',
    target: '目标', median: '中位数', p90: '90% 工单在此之内', hours: '小时',
  },
  staff: {
    title: '员工工作量与服务质量', hint: '按所选日期统计，不受小区和类型筛选影响', empty: '所选日期内没有员工处理记录',
    columns: {
      name: '员工', assigned: '接单', resolved: '已处理', firstResponses: '首次响应', firstResponseMedian: '首响时长中位数',
      resolutionMedian: '解决时长中位数', ratings: '评价数', csat: '满意度', reopened: '重开', breaches: '超时',
      openNow: '当前在办',
    },
  },
  ranking: {
    title: '小区红黑榜', hint: '综合得分：首响达标率、投诉闭环率、满意度各占 30%，每百户投诉少占 10%',
    empty: '还没有小区', red: '红榜', black: '黑榜', notScored: '数据不足，暂不排名',
    columns: {
      rank: '排名', name: '小区', score: '综合得分', firstResponse: '首响达标率', complaintClosure: '投诉闭环率',
      csat: '满意度', complaintsPer100: '每百户投诉', complaints: '投诉数', created: '工单数', units: '户数',
    },
  },
  duration: { d: '{n}天', h: '{n}小时', m: '{n}分', s: '{n}秒' },
  export: '导出', exported: '已导出 {name}', noData: '暂无数据', rangeTooLong: '一次最多统计 {days} 天，请缩短日期范围',
}
