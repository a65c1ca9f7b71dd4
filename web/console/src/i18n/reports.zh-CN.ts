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
    csat: '满意度（CSAT）趋势', kinds: '受理量（按类型）', channels: '来源渠道', resolutionByKind: '各类型解决时长',
  },
  hints: {
    firstResponse: '虚线为目标 {target}', complaintClosure: '虚线为目标 {target}', completeness: '虚线为目标 {target}',
    csat: '4–5 分评价占比', kinds: '每个周期新建工单的类型', channels: '每个周期新建工单的来源', resolutionByKind: '从报事到处理完成，单位：小时',
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
  overdue: { tag: '超期 {n}', hint: '其中已超过处理时限仍未完成的工单' },
  today: {
    title: '今日', asOf: '更新于 {time}', open: '未结工单', created: '今日新建', atRisk: '即将超时', breached: '已超时',
    hints: { open: '当前未完成的工单', created: '今天新报的工单', atRisk: '已到预警时间，尚未超时', breached: '未完成且已超时' },
  },
  renewal: {
    title: '满意度与续费', hint: '各小区每月满意度与物业费收缴率、续费率的关系', start: '开始月份', end: '结束月份',
    rangeTooLong: '一次最多选择 {months} 个月', collection_rate: '收缴率', renewal_rate: '续费率', csat: '满意度',
    trend: '趋势线', r: '相关系数 r = {r}，共 {pairs} 个样本', few: '样本不足（{pairs} 个，至少需要 3 个）',
    noPoints: '所选月份还没有同时有满意度和{rate}的小区', risks: '续费风险', risksHint: '{last} 满意度比 {previous} 下降 10% 以上',
    noRisk: '暂无风险小区', record: '物业费收缴录入',
    columns: {
      name: '小区', month: '月份', ratings: '评价数', csat: '满意度', meanRating: '平均评分', collection: '收缴率',
      renewal: '续费率', previous: '上季度满意度', last: '本季度满意度', change: '变化',
    },
  },
  fees: {
    title: '物业费收缴录入', percentColumn: '{name}（%）', hint: '按百分比填写 0–100，留空表示不填；两项都空的小区不提交。', blank: '未填',
    invalid: '请填写 0–100 之间的数字', fillOne: '请至少为一个小区填写收缴率或续费率', saved: '已保存 {n} 个小区的收缴数据',
    import: '导入文件', template: '下载模板', templateName: '物业费收缴导入模板', imported: '已导入 {n} 条',
    importErrors: '，{n} 处问题未导入', fileType: '请选择 CSV 或 XLSX 文件', line: '行号', field: '列', problem: '问题',
    fields: { community: '小区', month: '月份', collection_rate: '收缴率', renewal_rate: '续费率', header: '表头', file: '文件' },
    problems: {
      unknownCommunity: '没有名为“{name}”的小区', community: '未填写小区', month: '月份应为 YYYY-MM 格式',
      rate: '应为 0–1 的小数或百分比', noRate: '收缴率和续费率至少填一项', header: '第一行须为 小区、月份、收缴率、续费率',
    },
  },
  ticketExport: {
    button: '导出工单明细', xlsx: 'Excel（.xlsx）', csv: 'CSV（.csv）', queued: '排队中…', running: '生成中 {s} 秒',
    done: '已导出 {rows} 条工单', rows: '共 {rows} 条', failed: '导出失败（{error}），请重试', timeout: '文件仍在生成，请稍后重试',
  },
  duration: { d: '{n}天', h: '{n}小时', m: '{n}分', s: '{n}秒' },
  export: '导出', exported: '已导出 {name}', noData: '暂无数据', rangeTooLong: '一次最多统计 {days} 天，请缩短日期范围',
}
