import type { Catalog } from '../catalog.js';
import type { cli as en } from '../en/cli.js';

/** Korean messages: cli. */
export const cli = {
  'cli.usage': `사용법: vigil <command> [--config FILE]

명령:
  serve              봇 실행: 웹훅 수신, 추가 정보 조회, Discord 전송, 슬래시 명령
                     (--preview: Discord 없이 모든 메시지를 http://127.0.0.1:8080/preview 에 표시)
  check-config       설정 파일을 검사하고 요약 출력 (오류가 있으면 종료 코드 1)
  register-commands  Discord에 슬래시 명령 등록 (일괄 덮어쓰기);
                     --guild ID (또는 discord.guildId): 한 길드에 즉시 등록
  test-alert         실행 중인 봇의 웹훅으로 테스트 알림 전송 (--resolve: 해결 처리;
                     봇이 이 머신의 server.port 에 없으면 --url URL)

옵션: --config FILE (또는 VIGIL_CONFIG), --help, --version.
명령별 설명은 "vigil <command> --help" 로 볼 수 있습니다.`,
  'cli.help.serve': `사용법: vigil serve --config FILE [--preview]

봇을 실행합니다. server.port 에서 Grafana와 Alertmanager의 웹훅을 받아, 각 알림에 Prometheus,
Loki, Grafana에서 조회한 추가 정보를 붙여 Discord에 게시하고, 슬래시 명령에 응답합니다. SIGTERM 또는 SIGINT에
멈추며, 아직 전달하지 못한 알림은 보관했다가 다음 시작 후 보냅니다.

--preview (또는 discord.mode: preview)에는 Discord 토큰, 애플리케이션, 채널이 필요 없습니다. 모든
메시지, 수정, 스레드 메모, 차트를 대신 GET /preview 에 표시합니다 (basic auth: 사용자 이름은 아무거나,
비밀번호는 웹훅 토큰). --config 없이 실행하면 localhost:9090 의 Prometheus와 localhost:3100 의
Loki를 보고 (PROMETHEUS_URL, LOKI_URL), 저장소는 ./data/vigil-preview.db (VIGIL_DB), 수신 주소는
127.0.0.1:8080 (VIGIL_HOST, VIGIL_PORT)입니다. VIGIL_WEBHOOK_TOKEN 이 없으면 인증 없이 받습니다.`,
  'cli.help.checkConfig': `사용법: vigil check-config --config FILE [--online]

설정 파일을 검사하고 ($'{VAR}'는 환경 변수에서 가져옴) 비밀 값 없이 요약을 출력한 뒤 경고를
출력합니다. 유효하면 종료 코드 0, 아니면 1이며 모든 오류를 키 이름과 함께 보여 줍니다.
--online 은 모든 백엔드(Prometheus, Loki, Alertmanager, Grafana와 그 알림 규칙)와 Discord(토큰, 그리고
각 채널: 보이는지, 봇이 메시지 보내기·링크 첨부·파일 첨부·스레드 만들기를 할 수 있는지)에도 접속해
무엇이 빠졌는지 알려 줍니다. 빠진 것이 있으면 종료 코드 1입니다.`,
  'cli.help.registerCommands': `사용법: vigil register-commands --config FILE [--guild ID]

Vigil의 슬래시 명령을 Discord에 등록합니다 (일괄 덮어쓰기). --guild ID (또는 discord.guildId)가
있으면 한 길드에 등록하며 바로 나타납니다. 없으면 전역으로 등록합니다.`,
  'cli.help.testAlert': `사용법: vigil test-alert --config FILE [--resolve] [--url URL]

실행 중인 봇의 웹훅으로 Alertmanager처럼 발생 상태의 테스트 알림을 보냅니다. --resolve 로 다시
실행하면 해결됩니다. 봇이 이 머신의 server.port 에서 받지 않으면 --url URL 을 씁니다.
--config 없이 실행하면 설정 파일 없이 실행한 \`vigil serve --preview\` 로 보냅니다 (127.0.0.1:8080,
VIGIL_WEBHOOK_TOKEN 이 있으면 그 토큰으로).`,

  'cli.error.unknownOption': '알 수 없는 옵션 {option}',
  'cli.error.commandLine': '명령줄을 읽을 수 없습니다',
  'cli.error.unknownCommand': '알 수 없는 명령 "{command}"',
  'cli.error.notAnOption': '{options}: {command} 명령의 옵션이 아닙니다',
  'cli.error.noConfig': '설정 파일이 없습니다: --config FILE 또는 VIGIL_CONFIG 가 필요합니다',
  'cli.error.noConfigServe': '설정 파일이 없습니다: --config FILE 또는 VIGIL_CONFIG 가 필요합니다 (Discord 없이 써 보려면: vigil serve --preview)',

  'cli.config.unreadable': '설정 파일을 읽을 수 없습니다: {path}: {code}',
  'cli.config.invalid': '{source}: 오류 {count, number}개',
  'cli.config.previewSettings': '미리보기 설정',
  'cli.config.ok': '{path}: 정상',

  'cli.summary.set': '있음',
  'cli.summary.notSet': '없음',
  'cli.summary.off': '꺼짐',
  'cli.summary.notConfigured': '설정 안 됨',
  'cli.summary.server': '{address} (본문 제한 {bytes, number}바이트)',
  'cli.summary.webhook': '토큰 {token}, HMAC {hmac}',
  'cli.summary.insecure': ', 안전하지 않음 (인증 없이 받음)',
  'cli.summary.withLinks': '{url} (링크: {publicUrl})',
  'cli.summary.grafana': '{address}, 규칙 조회: {lookup}',
  'cli.summary.ruleLookup.token': '서비스 계정 토큰 사용',
  'cli.summary.ruleLookup.user': '사용자 {user} 계정 사용',
  'cli.summary.ruleLookup.off': '꺼짐 (grafana.token, 또는 grafana.user와 grafana.password 설정 필요)',
  'cli.summary.discordPreview': '미리보기 모드: Discord로 보내지 않고 모든 메시지를 GET /preview 에 표시, {threads}',
  'cli.summary.discord': '{mode} 모드, 애플리케이션 {applicationId}, 알림 채널 {channelId}, {threads}, API {api}, 토큰 {token}',
  'cli.summary.threads': '인시던트마다 스레드',
  'cli.summary.noThreads': '답글, 스레드 없음',
  'cli.summary.noRoutes': '없음: 모든 알림이 알림 채널로 갑니다',
  'cli.summary.route': '{name} -> 채널 {channelId}: {how}{pages}{escalates}, URL {url}',
  'cli.summary.route.matchersContinue': '{matchers}, 다음 라우트도 확인 (continue)',
  'cli.summary.route.byUrl': 'URL로만',
  'cli.summary.route.pages': ', 호출: {people}',
  'cli.summary.route.pagesOn': ', 호출: {people} ({severities}일 때)',
  'cli.summary.route.pagesNoOne': ', 호출 없음',
  'cli.summary.route.escalates': ', {after} 후 {people}에게 에스컬레이션 (최대 {repeat, number}회)',
  'cli.summary.roles': '역할 {count, number}개',
  'cli.summary.users': '사용자 {count, number}명',
  'cli.summary.enrichment': '조회 구간 {lookback}, 로그 구간 ±{logWindow}, 제한 시간 {timeout}',
  'cli.summary.charts': '{width}×{height}, 시간 예산 {budget}',
  'cli.summary.watchdog': '{interval}마다, {failures, number}회 실패 시 알림{channel}{heartbeat}',
  'cli.summary.watchdog.channel': ', 채널 {channelId}',
  'cli.summary.watchdog.heartbeat': ', 하트비트 {alertname}: {maxSilence} 이내',
  'cli.summary.snapshots': '"{schedule}" {timezone}, {retain, number}개 보관{prune}',
  'cli.summary.snapshots.prune': ', 정리 위치 {dir}',

  'cli.warning.reminderGap':
    '경고: delivery.reminderMinGap 이 {gap}입니다. 이만큼 늦게 온 발신자의 재시도나 HA 피어의 사본이 계속 발생 중이라는 리마인더로 처리됩니다 (mentions.onRepeat 가 설정된 곳에서는 다시 호출). {min} 이상, repeat_interval 보다 짧게 설정해야 합니다',
  'cli.warning.linkBase':
    '경고: {name} 링크: {base} 주소는 도메인 없는 호스트 이름(compose 서비스?)이라 휴대폰에서 열 수 없습니다. {name}.publicUrl 을 사람들이 여는 주소로 설정해야 합니다',

  'cli.online.header': '온라인 확인:',
  'cli.online.failed': '확인 {count, number}개 실패',
  'cli.online.passed': '모든 확인 통과',
  'cli.online.grafanaRules': 'Grafana 알림 규칙',
  'cli.online.grafanaRulesOff': '읽지 않음 (grafana.token 또는 grafana.user 없음): Grafana 알림은 규칙 정보 없이 게시됩니다',
  'cli.online.discordPreview': '접속 안 함: 미리보기 모드는 모든 메시지를 대신 GET /preview 에 표시합니다',
  'cli.online.alertChannel': '알림 채널',
  'cli.online.routeChannel': '라우트 {route} 채널',
  'cli.online.watchdogChannel': '워치독 채널',
  'cli.online.digestChannel': '일일 요약 채널',
  'cli.online.postgres': '스키마 버전 {version}; 확인된 복제본: {replicas}; 리더: {leader}',
  'cli.online.noReplica': '아직 없음',
  'cli.online.noLeader': '없음 (리스를 가진 복제본 없음)',
  'cli.summary.storageSqlite': 'SQLite {path} (복제본 1개)',
  'cli.summary.storagePostgres': 'PostgreSQL {target} (복제본당 연결 {pool}개), 리더 리스 {lease}',
  'cli.check.token': 'Discord 토큰',
  'cli.check.tokenRefused': '{failure}: discord.token 을 확인해야 합니다 (Developer Portal > Bot > Reset Token)',
  'cli.check.tokenValid': '유효함, 봇 {username} ({id})',
  'cli.check.notServerChannel': '서버 채널이 아닙니다: 알림에는 서버의 텍스트 채널이 필요합니다',
  'cli.check.theChannel': '채널',
  'cli.check.lacks': '{channel}: 봇에게 권한이 없습니다: {missing}. 채널 권한에서 봇(또는 봇의 역할)에 허용해야 합니다',
  'cli.check.may': '{channel}: 봇 권한 있음: {permissions}',
  'cli.check.unseen': '{failure}: 봇이 이 채널을 볼 수 없습니다. 채널 ID와, 봇이 그 서버에 있는지 확인해야 합니다',
  'cli.check.role': '{channel}: 역할 {roleId}',
  'cli.check.roleMissing': '이 채널이 있는 서버의 역할이 아닙니다: routes 의 ID를 확인해야 합니다 (역할 우클릭 > 역할 ID 복사하기)',
  'cli.check.rolePinged': '@{role}: 봇의 멘션으로 호출됩니다',
  'cli.check.roleSilent':
    '@{role}: 호출되지 않습니다. 누구나 @멘션할 수 있게 허용하거나 (서버 설정 > 역할), 이 채널에서 봇에게 "@everyone, @here, 모든 역할 멘션하기" 권한을 줘야 합니다',
  'cli.permission.viewChannel': '채널 보기',
  'cli.permission.sendMessages': '메시지 보내기',
  'cli.permission.embedLinks': '링크 첨부',
  'cli.permission.attachFiles': '파일 첨부',
  'cli.permission.readMessageHistory': '메시지 기록 보기',
  'cli.permission.createPublicThreads': '공개 스레드 만들기',
  'cli.permission.sendMessagesInThreads': '스레드에서 메시지 보내기',

  'cli.register.previewMode':
    'register-commands 에는 Discord가 필요합니다: 이 설정은 미리보기 모드입니다 (봇 토큰 없음). discord.token, discord.applicationId, discord.mode 를 설정해야 합니다',
  'cli.register.badGuild': '--guild: 길드 ID(17-20자리 스노플레이크)여야 하는데 "{guild}"입니다',
  'cli.register.inGuild': '길드 {guildId}',
  'cli.register.globally': '전역, 모든 곳에 보이기까지 최대 1시간',
  'cli.register.none': '(없음: 모든 명령이 삭제됨)',
  'cli.register.done': '명령 {count, number}개 등록 완료 ({where}): {list}',
  'cli.register.failed': 'register-commands 실패 ({where}): {error}',
  'cli.register.noList': 'Discord가 일괄 덮어쓰기에 명령 목록 없이 응답했습니다',

  'cli.testAlert.previewPage': '미리보기 페이지 {url}',
  'cli.testAlert.alertChannel': '알림 채널',
  'cli.testAlert.accepted': '테스트 알림 접수됨 ({target}): {where}에서 확인할 수 있습니다',
  'cli.testAlert.resolveAccepted': '테스트 알림 해결 접수됨 ({target}): {where}에서 확인할 수 있습니다',
  'cli.testAlert.refused': '테스트 알림 거부됨 ({target}): HTTP {status} {body}',
  'cli.testAlert.unreachable': '테스트 알림을 보낼 수 없습니다 ({target}): {cause} (`vigil serve` 가 실행 중인가요?)',
  'cli.testAlert.summary': '`vigil test-alert` 의 테스트 알림',
  'cli.testAlert.description': 'Discord에서 이 글이 보이면 웹훅 → Vigil → Discord 경로가 동작합니다. 해결하려면 `vigil test-alert --resolve` 를 실행합니다.',
} as const satisfies Catalog<typeof en>;
