<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
  <context>
    <name>visitapp</name>
    <message>
      <source>Dismiss</source>
      <translation>关闭提示</translation>
    </message>
    <message>
      <source>Home-visit recorder</source>
      <translation>家访记录</translation>
    </message>
    <message>
      <source>Screens</source>
      <translation>功能页面</translation>
    </message>
    <message>
      <source>&amp;File</source>
      <translation>文件(&amp;F)</translation>
    </message>
    <message>
      <source>Save</source>
      <translation>保存</translation>
    </message>
    <message>
      <source>Finalize visit record…</source>
      <translation>家访记录定稿…</translation>
    </message>
    <message>
      <source>Sync now</source>
      <translation>立即同步</translation>
    </message>
    <message>
      <source>Lock</source>
      <translation>锁定</translation>
    </message>
    <message>
      <source>Quit</source>
      <translation>退出</translation>
    </message>
    <message>
      <source>&amp;Go</source>
      <translation>转到(&amp;G)</translation>
    </message>
    <message>
      <source>Find a student</source>
      <translation>查找学生</translation>
    </message>
    <message>
      <source>My students</source>
      <translation>我的学生</translation>
    </message>
    <message>
      <source>Visit record</source>
      <translation>家访记录</translation>
    </message>
    <message>
      <source>Growth file</source>
      <translation>成长档案</translation>
    </message>
    <message>
      <source>Mentor notes</source>
      <translation>导师记录</translation>
    </message>
    <message>
      <source>Sync</source>
      <translation>同步</translation>
    </message>
    <message>
      <source>Conflicts</source>
      <translation>冲突处理</translation>
    </message>
    <message>
      <source>Assignments</source>
      <translation>任务分配</translation>
    </message>
    <message>
      <source>Collective review</source>
      <translation>集体评议</translation>
    </message>
    <message>
      <source>Settings</source>
      <translation>设置</translation>
    </message>
    <message>
      <source>Locked</source>
      <translation>已锁定</translation>
    </message>
    <message>
      <source>Unlocked</source>
      <translation>已解锁</translation>
    </message>
    <message>
      <source>Nothing to send</source>
      <translation>没有待上传的修改</translation>
    </message>
    <message>
      <source>Online</source>
      <translation>在线</translation>
    </message>
    <message>
      <source>Offline: working on this computer</source>
      <translation>离线：在本机工作</translation>
    </message>
    <message>
      <source>Not synced yet</source>
      <translation>尚未同步</translation>
    </message>
    <message>
      <source>{n} changes to send</source>
      <translation>{n} 项修改待上传</translation>
    </message>
    <message>
      <source>Open conflicts</source>
      <translation>待处理的冲突</translation>
    </message>
    <message>
      <source>No conflicts. Everything agrees with the school server.</source>
      <translation>没有冲突，本机数据与学校服务器一致。</translation>
    </message>
    <message>
      <source>Value on this computer</source>
      <translation>本机的值</translation>
    </message>
    <message>
      <source>Value from the other device</source>
      <translation>另一台设备的值</translation>
    </message>
    <message>
      <source>Value to keep</source>
      <translation>保留的值</translation>
    </message>
    <message>
      <source>Reason</source>
      <translation>原因</translation>
    </message>
    <message>
      <source>Why this value? (kept in the audit trail)</source>
      <translation>为什么采用这个值？（记入操作留痕）</translation>
    </message>
    <message>
      <source>Keep mine</source>
      <translation>采用本机的值</translation>
    </message>
    <message>
      <source>Keep theirs</source>
      <translation>采用对方的值</translation>
    </message>
    <message>
      <source>Resolve</source>
      <translation>确认处理</translation>
    </message>
    <message>
      <source>Conflict</source>
      <translation>冲突</translation>
    </message>
    <message>
      <source>On this computer</source>
      <translation>本机</translation>
    </message>
    <message>
      <source>From the other device</source>
      <translation>另一台设备</translation>
    </message>
    <message>
      <source>Value to keep (edit to merge by hand)</source>
      <translation>保留的值（可手工合并修改）</translation>
    </message>
    <message>
      <source>Give a reason for your choice.</source>
      <translation>请说明处理原因。</translation>
    </message>
    <message>
      <source>{student}: “{field}” was changed on two devices. Both values are kept until you decide.</source>
      <translation>{student}：“{field}”在两台设备上都被修改过。在您决定之前，两个值都会保留。</translation>
    </message>
    <message>
      <source>The conflict was resolved.</source>
      <translation>冲突已处理。</translation>
    </message>
    <message>
      <source>Home visit</source>
      <translation>家访</translation>
    </message>
    <message>
      <source>Growth reward</source>
      <translation>成长奖励</translation>
    </message>
    <message>
      <source>Aid</source>
      <translation>资助</translation>
    </message>
    <message>
      <source>Psychological support</source>
      <translation>心理帮扶</translation>
    </message>
    <message>
      <source>Mentor note</source>
      <translation>导师记录</translation>
    </message>
    <message>
      <source>Activity</source>
      <translation>活动</translation>
    </message>
    <message>
      <source>Add a growth reward</source>
      <translation>添加成长奖励</translation>
    </message>
    <message>
      <source>Reward kind</source>
      <translation>奖励类型</translation>
    </message>
    <message>
      <source>Date</source>
      <translation>日期</translation>
    </message>
    <message>
      <source>Title</source>
      <translation>名称</translation>
    </message>
    <message>
      <source>Detail</source>
      <translation>详情</translation>
    </message>
    <message>
      <source>Save profile</source>
      <translation>保存档案信息</translation>
    </message>
    <message>
      <source>Profile</source>
      <translation>学生特点</translation>
    </message>
    <message>
      <source>Timeline</source>
      <translation>成长时间线</translation>
    </message>
    <message>
      <source>Add a growth reward…</source>
      <translation>添加成长奖励…</translation>
    </message>
    <message>
      <source>Back to my students</source>
      <translation>返回我的学生</translation>
    </message>
    <message>
      <source>Timeline (newest first)</source>
      <translation>成长时间线（最新在前）</translation>
    </message>
    <message>
      <source>Kind</source>
      <translation>类型</translation>
    </message>
    <message>
      <source>Growth file: {name} ({cls})</source>
      <translation>资助成长档案：{name}（{cls}）</translation>
    </message>
    <message>
      <source>Another device changed this field too: resolve it under Conflicts.</source>
      <translation>另一台设备也修改了此项，请到“冲突处理”中确认。</translation>
    </message>
    <message>
      <source>The profile was saved.</source>
      <translation>档案信息已保存。</translation>
    </message>
    <message>
      <source>Students I mentor</source>
      <translation>我指导的学生</translation>
    </message>
    <message>
      <source>Notes</source>
      <translation>记录</translation>
    </message>
    <message>
      <source>Participants</source>
      <translation>参与人</translation>
    </message>
    <message>
      <source>Names, separated by commas</source>
      <translation>姓名，用逗号分隔</translation>
    </message>
    <message>
      <source>Note</source>
      <translation>记录内容</translation>
    </message>
    <message>
      <source>New note</source>
      <translation>新建记录</translation>
    </message>
    <message>
      <source>Save note</source>
      <translation>保存记录</translation>
    </message>
    <message>
      <source>You are not the mentor of any student yet.</source>
      <translation>您目前还不是任何学生的育人导师。</translation>
    </message>
    <message>
      <source>(conflict copy)</source>
      <translation>（冲突副本）</translation>
    </message>
    <message>
      <source>The note was saved.</source>
      <translation>记录已保存。</translation>
    </message>
    <message>
      <source>Student</source>
      <translation>学生</translation>
    </message>
    <message>
      <source>Teacher</source>
      <translation>教师</translation>
    </message>
    <message>
      <source>Role</source>
      <translation>职责</translation>
    </message>
    <message>
      <source>Assign</source>
      <translation>分配</translation>
    </message>
    <message>
      <source>End the selected assignment</source>
      <translation>结束选中的分配</translation>
    </message>
    <message>
      <source>New assignment</source>
      <translation>新的分配</translation>
    </message>
    <message>
      <source>Review meetings</source>
      <translation>评议会议</translation>
    </message>
    <message>
      <source>Meeting date</source>
      <translation>评议日期</translation>
    </message>
    <message>
      <source>Reviewers</source>
      <translation>评议人</translation>
    </message>
    <message>
      <source>Minutes</source>
      <translation>会议记录</translation>
    </message>
    <message>
      <source>Record the meeting</source>
      <translation>登记评议会议</translation>
    </message>
    <message>
      <source>New review meeting</source>
      <translation>新的评议会议</translation>
    </message>
    <message>
      <source>Determinations</source>
      <translation>认定结果</translation>
    </message>
    <message>
      <source>Level</source>
      <translation>认定等级</translation>
    </message>
    <message>
      <source>Record the determination</source>
      <translation>登记认定结果</translation>
    </message>
    <message>
      <source>Determinations of the selected meeting</source>
      <translation>选中会议的认定结果</translation>
    </message>
    <message>
      <source>Assignments of visitors and mentors</source>
      <translation>家访教师与育人导师的分配</translation>
    </message>
    <message>
      <source>Collective review and determinations</source>
      <translation>集体评议与困难认定</translation>
    </message>
    <message>
      <source>Visit first, then determine: a determination needs a finalized on-site visit of this term.</source>
      <translation>先家访后认定：认定前，该学生本学期须有一条已定稿的实地家访记录。</translation>
    </message>
    <message>
      <source>Record or select a review meeting first.</source>
      <translation>请先登记或选择一次评议会议。</translation>
    </message>
    <message>
      <source>Term</source>
      <translation>学期</translation>
    </message>
    <message>
      <source>{date} — {n} reviewers</source>
      <translation>{date} — {n} 位评议人</translation>
    </message>
    <message>
      <source>Language</source>
      <translation>界面语言</translation>
    </message>
    <message>
      <source>Lock after idle minutes</source>
      <translation>无操作自动锁定</translation>
    </message>
    <message>
      <source>Server address</source>
      <translation>服务器地址</translation>
    </message>
    <message>
      <source>A change of language applies the next time the application starts.</source>
      <translation>界面语言的更改在下次启动软件时生效。</translation>
    </message>
    <message>
      <source>Save settings</source>
      <translation>保存设置</translation>
    </message>
    <message>
      <source>Full enrollment code</source>
      <translation>完整注册码</translation>
    </message>
    <message>
      <source>Enroll with the school server</source>
      <translation>连接学校服务器</translation>
    </message>
    <message>
      <source>Enrollment code</source>
      <translation>注册码</translation>
    </message>
    <message>
      <source>min</source>
      <translation>分钟</translation>
    </message>
    <message>
      <source>Keys: not yet published to the school server (it will be tried again at the next sync).</source>
      <translation>本机密钥：尚未登记到学校服务器（下次同步时再登记）。</translation>
    </message>
    <message>
      <source>Key fingerprint: {fingerprint} (certified)</source>
      <translation>本机密钥指纹：{fingerprint}（已认证）</translation>
    </message>
    <message>
      <source>Key fingerprint: {fingerprint} (certified at the officer's next sync)</source>
      <translation>本机密钥指纹：{fingerprint}（资助专干下次同步后认证）</translation>
    </message>
    <message>
      <source>Key fingerprint: {fingerprint} (keys not yet certified: the officer compares this fingerprint)</source>
      <translation>本机密钥指纹：{fingerprint}（密钥尚未认证：请资助专干核对此指纹）</translation>
    </message>
    <message>
      <source>Enrolled. Sync now to bring your students down.</source>
      <translation>已连接学校服务器。请立即同步，取回您的学生名单。</translation>
    </message>
    <message>
      <source>Settings saved.</source>
      <translation>设置已保存。</translation>
    </message>
    <message>
      <source>Too short: use at least 8 characters.</source>
      <translation>太短：请至少使用 8 个字符。</translation>
    </message>
    <message>
      <source>Weak: a longer passphrase is safer.</source>
      <translation>较弱：更长的口令更安全。</translation>
    </message>
    <message>
      <source>Fair: a few more words would help.</source>
      <translation>一般：再加几个词会更好。</translation>
    </message>
    <message>
      <source>Good.</source>
      <translation>良好。</translation>
    </message>
    <message>
      <source>Strong.</source>
      <translation>很强。</translation>
    </message>
    <message>
      <source>Welcome to the home-visit recorder</source>
      <translation>欢迎使用家访记录</translation>
    </message>
    <message>
      <source>Records stay encrypted on this computer and work without a network. Enroll with your school's server to sync, or try the offline demo.</source>
      <translation>记录加密保存在本机，没有网络也能使用。请用注册码连接学校服务器以便同步，或先试用离线演示。</translation>
    </message>
    <message>
      <source>The code from the school's aid officer</source>
      <translation>学校资助专干提供的注册码</translation>
    </message>
    <message>
      <source>Start the offline demo</source>
      <translation>离线演示</translation>
    </message>
    <message>
      <source>Or paste the full code</source>
      <translation>或粘贴完整注册码</translation>
    </message>
    <message>
      <source>Choose a passphrase</source>
      <translation>设置口令</translation>
    </message>
    <message>
      <source>The passphrase protects the families' data on this computer. Nobody can recover it for you; keep the recovery key shown next.</source>
      <translation>口令保护本机上的家庭信息。任何人都无法替您找回口令，请妥善保管接下来显示的恢复密钥。</translation>
    </message>
    <message>
      <source>Your name</source>
      <translation>您的姓名</translation>
    </message>
    <message>
      <source>Passphrase</source>
      <translation>口令</translation>
    </message>
    <message>
      <source>Repeat the passphrase</source>
      <translation>再次输入口令</translation>
    </message>
    <message>
      <source>Create the profile</source>
      <translation>创建档案</translation>
    </message>
    <message>
      <source>Your recovery key</source>
      <translation>您的恢复密钥</translation>
    </message>
    <message>
      <source>Write it down or print it and keep it locked away. It is shown only this once; with it you can open the profile if you forget the passphrase.</source>
      <translation>请抄写或打印后锁好保存。恢复密钥只显示这一次；忘记口令时可以用它打开档案。</translation>
    </message>
    <message>
      <source>Recovery key</source>
      <translation>恢复密钥</translation>
    </message>
    <message>
      <source>Print the recovery key…</source>
      <translation>打印恢复密钥…</translation>
    </message>
    <message>
      <source>Save to a file…</source>
      <translation>保存为文件…</translation>
    </message>
    <message>
      <source>Print the recovery key</source>
      <translation>打印恢复密钥</translation>
    </message>
    <message>
      <source>Preparing the page…</source>
      <translation>正在准备打印页…</translation>
    </message>
    <message>
      <source>Not printed.</source>
      <translation>未打印。</translation>
    </message>
    <message>
      <source>The printer could not be started. Check that it is on and connected, then try again.</source>
      <translation>无法启动打印机。请检查打印机是否已开机并连接好，然后再试一次。</translation>
    </message>
    <message>
      <source>Sent to the printer. Keep the page locked away; no copy was saved on this computer.</source>
      <translation>已发送到打印机。请把打印出的这一页锁好保管；本机没有保存任何副本。</translation>
    </message>
    <message>
      <source>Written to the file {file}, not to paper: that file opens the profile too. Print it, lock the page away, then delete the file.</source>
      <translation>已写入文件 {file}，没有打印到纸上：这个文件同样能打开档案。请把它打印出来锁好保管，然后删除该文件。</translation>
    </message>
    <message>
      <source>I have kept it safe, continue</source>
      <translation>我已妥善保存，继续</translation>
    </message>
    <message>
      <source>Save the recovery key</source>
      <translation>保存恢复密钥</translation>
    </message>
    <message>
      <source>Saved. Print it, then delete the file.</source>
      <translation>已保存。请打印后删除该文件。</translation>
    </message>
    <message>
      <source>The two passphrases differ.</source>
      <translation>两次输入的口令不一致。</translation>
    </message>
    <message>
      <source>Enter the server address and the code, or paste the full enrollment code.</source>
      <translation>请填写服务器地址和注册码，或粘贴完整注册码。</translation>
    </message>
    <message>
      <source>Recovery key of the home-visit recorder</source>
      <translation>家访记录软件的恢复密钥</translation>
    </message>
    <message>
      <source>The profile was created, but enrollment did not succeed: {reason} You can enroll later under Settings.</source>
      <translation>档案已创建，但连接学校服务器没有成功：{reason} 您可以稍后在“设置”中再次连接。</translation>
    </message>
    <message>
      <source>Not visited</source>
      <translation>未走访</translation>
    </message>
    <message>
      <source>Draft</source>
      <translation>草稿</translation>
    </message>
    <message>
      <source>Visited</source>
      <translation>已走访</translation>
    </message>
    <message>
      <source> ({n} by phone or video only, not visited on site)</source>
      <translation>（另有 {n} 人仅电话/视频家访，未实地走访）</translation>
    </message>
    <message>
      <source>Phone or video only, not visited on site</source>
      <translation>仅电话/视频家访，未实地走访</translation>
    </message>
    <message>
      <source>Yes</source>
      <translation>是</translation>
    </message>
    <message>
      <source>Name</source>
      <translation>姓名</translation>
    </message>
    <message>
      <source>Class</source>
      <translation>班级</translation>
    </message>
    <message>
      <source>Stage</source>
      <translation>学段</translation>
    </message>
    <message>
      <source>Hardship categories</source>
      <translation>困难类别</translation>
    </message>
    <message>
      <source>Key support</source>
      <translation>重点帮扶</translation>
    </message>
    <message>
      <source>Auto-eligible</source>
      <translation>免申即享</translation>
    </message>
    <message>
      <source>Visit this term</source>
      <translation>本学期家访</translation>
    </message>
    <message>
      <source>Mentor</source>
      <translation>育人导师</translation>
    </message>
    <message>
      <source>Search by name or class</source>
      <translation>按姓名或班级搜索</translation>
    </message>
    <message>
      <source>Not yet visited</source>
      <translation>尚未走访</translation>
    </message>
    <message>
      <source>No growth reward</source>
      <translation>没有成长奖励</translation>
    </message>
    <message>
      <source>No mentor</source>
      <translation>没有育人导师</translation>
    </message>
    <message>
      <source>Write visit record</source>
      <translation>填写家访记录</translation>
    </message>
    <message>
      <source>Open growth file</source>
      <translation>打开成长档案</translation>
    </message>
    <message>
      <source>Select a student first.</source>
      <translation>请先选择一名学生。</translation>
    </message>
    <message>
      <source>Loading the students…</source>
      <translation>正在载入学生名单…</translation>
    </message>
    <message>
      <source>{shown} of {total} students</source>
      <translation>显示 {shown} / 共 {total} 名学生</translation>
    </message>
    <message>
      <source>Visited this term: {visited}/{total}</source>
      <translation>本学期已走访 {visited}/{total}</translation>
    </message>
    <message>
      <source>never</source>
      <translation>从未同步</translation>
    </message>
    <message>
      <source>Sync with the school server</source>
      <translation>与学校服务器同步</translation>
    </message>
    <message>
      <source>Sync sends your records to the school server and brings back changes for your students. You can keep working while it runs.</source>
      <translation>同步会把您的记录上传到学校服务器，并取回与您的学生有关的更新。同步进行时可以继续工作。</translation>
    </message>
    <message>
      <source>Cancel</source>
      <translation>取消</translation>
    </message>
    <message>
      <source>Sync progress</source>
      <translation>同步进度</translation>
    </message>
    <message>
      <source>Records that did not go through</source>
      <translation>未能同步的记录</translation>
    </message>
    <message>
      <source>No key epoch list published yet: the sync publishes it once students' keys exist.</source>
      <translation>尚未发布密钥代数清单：学生的内容密钥生成后，同步时会自动发布。</translation>
    </message>
    <message>
      <source>No signed key epoch list received yet.</source>
      <translation>尚未收到经签名的密钥代数清单。</translation>
    </message>
    <message>
      <source>Key epoch list: version {version}, signed {when}. After their next sync, teachers' Settings should show the same version; an older one there means the school server keeps the newer keys from that laptop.</source>
      <translation>密钥代数清单：第 {version} 版，签发于 {when}。教师电脑同步后，其“设置”页应显示同一版本；若显示的版本更旧，说明学校服务器扣下了发给那台电脑的新密钥。</translation>
    </message>
    <message>
      <source>Key epoch list: version {version}, signed {when}. The officer's screen shows the version the officer's laptop published; if it is newer than this after your sync, the school server is keeping keys from this laptop: tell the officer.</source>
      <translation>密钥代数清单：第 {version} 版，签发于 {when}。资助专干的屏幕上显示其电脑发布的版本；若同步后那边的版本比这里新，说明学校服务器扣下了发给本机的密钥，请告知资助专干。</translation>
    </message>
    <message>
      <source>Warnings from the last sync</source>
      <translation>上次同步的警告</translation>
    </message>
    <message>
      <source>Warnings from this sync (please tell the aid officer):</source>
      <translation>本次同步的警告（请告知资助专干）：</translation>
    </message>
    <message>
      <source>… and {n} more.</source>
      <translation>……另有 {n} 条。</translation>
    </message>
    <message>
      <source>Records</source>
      <translation>记录数</translation>
    </message>
    <message>
      <source>Last sync</source>
      <translation>上次同步</translation>
    </message>
    <message>
      <source>Changes waiting to be sent</source>
      <translation>待上传的修改</translation>
    </message>
    <message>
      <source>Syncing…</source>
      <translation>正在同步…</translation>
    </message>
    <message>
      <source>Stopping after the current batch…</source>
      <translation>当前这一批完成后停止…</translation>
    </message>
    <message>
      <source>Connecting to the school server…</source>
      <translation>正在连接学校服务器…</translation>
    </message>
    <message>
      <source>Stopping the sync…</source>
      <translation>正在停止同步…</translation>
    </message>
    <message>
      <source>Loading…</source>
      <translation>正在载入…</translation>
    </message>
    <message>
      <source>Connecting…</source>
      <translation>正在连接…</translation>
    </message>
    <message>
      <source>Sync was cancelled; what was done is kept.</source>
      <translation>同步已取消，已完成的部分会保留。</translation>
    </message>
    <message>
      <source>Offline: the school server cannot be reached. Your work is safe on this computer and will be sent at the next sync.</source>
      <translation>离线：暂时连不上学校服务器。您的记录安全保存在本机，下次同步时会自动上传。</translation>
    </message>
    <message>
      <source>Record</source>
      <translation>记录</translation>
    </message>
    <message>
      <source>Problem</source>
      <translation>问题</translation>
    </message>
    <message>
      <source>{done} of {total}</source>
      <translation>{done} / {total}</translation>
    </message>
    <message>
      <source>Sent {pushed}, received {pulled}.</source>
      <translation>已上传 {pushed} 条，已接收 {pulled} 条。</translation>
    </message>
    <message>
      <source>{n} conflicts need your decision under Conflicts.</source>
      <translation>有 {n} 处冲突需要您在“冲突处理”中决定。</translation>
    </message>
    <message>
      <source>{n} records did not go through; see the list below.</source>
      <translation>有 {n} 条记录未能同步，见下方列表。</translation>
    </message>
    <message>
      <source>Enter your passphrase to open the profile.</source>
      <translation>请输入口令打开档案。</translation>
    </message>
    <message>
      <source>Unlock</source>
      <translation>解锁</translation>
    </message>
    <message>
      <source>The application locked itself after a while without use. Your open form is kept; enter the passphrase to continue.</source>
      <translation>软件在一段时间无操作后已自动锁定。您正在填写的内容都已保留，输入口令即可继续。</translation>
    </message>
    <message>
      <source>Enter your passphrase.</source>
      <translation>请输入口令。</translation>
    </message>
    <message>
      <source>Wait {n} s</source>
      <translation>请等待 {n} 秒</translation>
    </message>
    <message>
      <source>Visit date</source>
      <translation>家访日期</translation>
    </message>
    <message>
      <source>Visit time</source>
      <translation>家访时间</translation>
    </message>
    <message>
      <source>Mode</source>
      <translation>家访方式</translation>
    </message>
    <message>
      <source>(choose)</source>
      <translation>（请选择）</translation>
    </message>
    <message>
      <source>Visitors</source>
      <translation>家访教师</translation>
    </message>
    <message>
      <source>People present</source>
      <translation>在场人员</translation>
    </message>
    <message>
      <source>Family members</source>
      <translation>家庭成员</translation>
    </message>
    <message>
      <source>Add member</source>
      <translation>添加成员</translation>
    </message>
    <message>
      <source>Remove member</source>
      <translation>删除成员</translation>
    </message>
    <message>
      <source>not filled in</source>
      <translation>未填写</translation>
    </message>
    <message>
      <source>Annual family income</source>
      <translation>家庭年收入</translation>
    </message>
    <message>
      <source>Income sources</source>
      <translation>收入来源</translation>
    </message>
    <message>
      <source>Housing</source>
      <translation>住房情况</translation>
    </message>
    <message>
      <source>Major expenses</source>
      <translation>主要支出</translation>
    </message>
    <message>
      <source>The student's needs</source>
      <translation>学生的需求</translation>
    </message>
    <message>
      <source>The family's requests</source>
      <translation>家庭的诉求</translation>
    </message>
    <message>
      <source>Recommended level</source>
      <translation>建议认定等级</translation>
    </message>
    <message>
      <source>Hardship indicators</source>
      <translation>困难情况</translation>
    </message>
    <message>
      <source>Policy materials handed over</source>
      <translation>已发放的政策资料</translation>
    </message>
    <message>
      <source>Narrative</source>
      <translation>家访情况记录</translation>
    </message>
    <message>
      <source>Follow-ups</source>
      <translation>后续跟进</translation>
    </message>
    <message>
      <source>Guardian consent</source>
      <translation>监护人知情同意</translation>
    </message>
    <message>
      <source>(not asked yet)</source>
      <translation>（尚未确认）</translation>
    </message>
    <message>
      <source>The guardian agrees</source>
      <translation>监护人同意</translation>
    </message>
    <message>
      <source>The guardian does not agree</source>
      <translation>监护人不同意</translation>
    </message>
    <message>
      <source>Reason for the correction</source>
      <translation>更正原因</translation>
    </message>
    <message>
      <source>Save draft</source>
      <translation>保存草稿</translation>
    </message>
    <message>
      <source>Finalize…</source>
      <translation>定稿…</translation>
    </message>
    <message>
      <source>Correct (amend)…</source>
      <translation>更正…</translation>
    </message>
    <message>
      <source>New visit record</source>
      <translation>新建家访记录</translation>
    </message>
    <message>
      <source>Unsaved changes</source>
      <translation>有未保存的修改</translation>
    </message>
    <message>
      <source>Saving…</source>
      <translation>正在保存…</translation>
    </message>
    <message>
      <source>After finalizing, the record becomes read-only. Corrections are made as a new record with a reason.</source>
      <translation>定稿后记录将变为只读。如需更正，将另建一条更正记录并说明原因。</translation>
    </message>
    <message>
      <source>Correct a finalized record</source>
      <translation>更正已定稿的记录</translation>
    </message>
    <message>
      <source>Why does the record need a correction?</source>
      <translation>为什么需要更正这条记录？</translation>
    </message>
    <message>
      <source>Relation</source>
      <translation>与学生关系</translation>
    </message>
    <message>
      <source>Age</source>
      <translation>年龄</translation>
    </message>
    <message>
      <source>Occupation</source>
      <translation>职业</translation>
    </message>
    <message>
      <source>Health</source>
      <translation>健康状况</translation>
    </message>
    <message>
      <source>yuan</source>
      <translation>元</translation>
    </message>
    <message>
      <source>Visit</source>
      <translation>家访信息</translation>
    </message>
    <message>
      <source>Family</source>
      <translation>家庭情况</translation>
    </message>
    <message>
      <source>Assessment</source>
      <translation>困难评估</translation>
    </message>
    <message>
      <source>Not saved</source>
      <translation>未保存</translation>
    </message>
    <message>
      <source>Please check the fields marked in red.</source>
      <translation>请检查标红的内容。</translation>
    </message>
    <message>
      <source>Finalize the visit record?</source>
      <translation>确认定稿这条家访记录？</translation>
    </message>
    <message>
      <source>The visit record was finalized.</source>
      <translation>家访记录已定稿。</translation>
    </message>
    <message>
      <source>A correction needs a reason.</source>
      <translation>更正必须说明原因。</translation>
    </message>
    <message>
      <source>Finalized: this record is read-only. To change it, use Correct (amend) and give a reason.</source>
      <translation>已定稿：这条记录只读。如需修改，请使用“更正”并说明原因。</translation>
    </message>
    <message>
      <source>This record was corrected by a later record and is kept read-only for the trail.</source>
      <translation>这条记录已被后来的更正记录取代，作为留痕只读保存。</translation>
    </message>
    <message>
      <source>This record was voided and is kept read-only.</source>
      <translation>这条记录已作废，只读保存。</translation>
    </message>
    <message>
      <source>Student: {name}</source>
      <translation>学生：{name}</translation>
    </message>
    <message>
      <source>Date: {date}, {mode}</source>
      <translation>日期：{date}，{mode}</translation>
    </message>
    <message>
      <source>Visitors: {names}</source>
      <translation>家访教师：{names}</translation>
    </message>
    <message>
      <source>Hardship indicators: {n}</source>
      <translation>困难情况：{n} 项</translation>
    </message>
    <message>
      <source>Recommended level: {level}</source>
      <translation>建议认定等级：{level}</translation>
    </message>
    <message>
      <source>This is a correction of a finalized record.</source>
      <translation>这是对一条已定稿记录的更正。</translation>
    </message>
    <message>
      <source>Draft: saved automatically while you type.</source>
      <translation>草稿：输入时自动保存。</translation>
    </message>
    <message>
      <source>Home visit record: {name} ({cls})</source>
      <translation>家访记录：{name}（{cls}）</translation>
    </message>
    <message>
      <source>Saved at {time}</source>
      <translation>已于 {time} 保存</translation>
    </message>
    <message>
      <source>Print record sheet…</source>
      <translation>打印家访记录表…</translation>
    </message>
    <message>
      <source>A4 sheet for signatures and the paper archive (PDF)</source>
      <translation>A4 记录表，供签字和纸质归档（PDF）</translation>
    </message>
    <message>
      <source>Print growth file…</source>
      <translation>打印资助成长档案…</translation>
    </message>
    <message>
      <source>Publish and print the public notice…</source>
      <translation>发布并打印公示名单…</translation>
    </message>
    <message>
      <source>Masked names, classes and levels only; open for 7 days</source>
      <translation>只含脱敏姓名、班级和等级；公示 7 天</translation>
    </message>
    <message>
      <source>Saved {path} ({pages} pages).</source>
      <translation>已保存 {path}（共 {pages} 页）。</translation>
    </message>
    <message>
      <source>The font lacks these characters; write them by hand: {chars}</source>
      <translation>字库缺少以下字符，请手工补写：{chars}</translation>
    </message>
    <message>
      <source>City platform</source>
      <translation>市平台对接</translation>
    </message>
    <message>
      <source>Masked ID</source>
      <translation>身份证号（脱敏）</translation>
    </message>
    <message>
      <source>District</source>
      <translation>区</translation>
    </message>
    <message>
      <source>Automatically eligible</source>
      <translation>免申即享</translation>
    </message>
    <message>
      <source>Level on the platform</source>
      <translation>平台认定等级</translation>
    </message>
    <message>
      <source>On the roster</source>
      <translation>在名册中</translation>
    </message>
    <message>
      <source>Roster</source>
      <translation>名册</translation>
    </message>
    <message>
      <source>Aid history</source>
      <translation>资助记录</translation>
    </message>
    <message>
      <source>Upload</source>
      <translation>上报</translation>
    </message>
    <message>
      <source>Statistics</source>
      <translation>统计</translation>
    </message>
    <message>
      <source>File import</source>
      <translation>文件导入</translation>
    </message>
    <message>
      <source>File export</source>
      <translation>文件导出</translation>
    </message>
    <message>
      <source>OK</source>
      <translation>成功</translation>
    </message>
    <message>
      <source>Partly</source>
      <translation>部分成功</translation>
    </message>
    <message>
      <source>Failed</source>
      <translation>失败</translation>
    </message>
    <message>
      <source>Preview only</source>
      <translation>仅预览</translation>
    </message>
    <message>
      <source>Visits</source>
      <translation>家访</translation>
    </message>
    <message>
      <source>Growth rewards</source>
      <translation>成长奖励</translation>
    </message>
    <message>
      <source>Mentors</source>
      <translation>育人导师</translation>
    </message>
    <message>
      <source>Not on the roster</source>
      <translation>不在名册</translation>
    </message>
    <message>
      <source>Level differs</source>
      <translation>等级不一致</translation>
    </message>
    <message>
      <source>Exports pending or failed</source>
      <translation>待上报或上报失败</translation>
    </message>
    <message>
      <source>No</source>
      <translation>否</translation>
    </message>
    <message>
      <source>City aid platform: exchange and reconciliation</source>
      <translation>市阳光资助平台：数据交换与对账</translation>
    </message>
    <message>
      <source>Pull the roster from the platform</source>
      <translation>从平台拉取名单</translation>
    </message>
    <message>
      <source>Pull aid records</source>
      <translation>拉取资助记录</translation>
    </message>
    <message>
      <source>Push to the platform</source>
      <translation>上报</translation>
    </message>
    <message>
      <source>Refresh the report</source>
      <translation>刷新对账报告</translation>
    </message>
    <message>
      <source>Export xlsx…</source>
      <translation>导出电子表格…</translation>
    </message>
    <message>
      <source>Working with the platform</source>
      <translation>正在与平台交换数据</translation>
    </message>
    <message>
      <source>Roster preview</source>
      <translation>名册预览</translation>
    </message>
    <message>
      <source>Pull the roster to see what would change before anything is applied.</source>
      <translation>先拉取名单，查看将发生的变化，确认后再应用。</translation>
    </message>
    <message>
      <source>Apply</source>
      <translation>应用</translation>
    </message>
    <message>
      <source>The report lists what the platform and the school do not agree on.</source>
      <translation>对账报告列出平台与学校数据不一致之处。</translation>
    </message>
    <message>
      <source>Pushing sends visit completion, final determinations, growth rewards and mentors (allow-listed facts only, no free text) and the statistics.</source>
      <translation>上报内容：家访完成情况、已生效的认定结果、成长奖励和育人导师（仅限约定字段，不含任何文字描述），以及统计数据。</translation>
    </message>
    <message>
      <source>Exchange log</source>
      <translation>交换记录</translation>
    </message>
    <message>
      <source>Reconciliation</source>
      <translation>对账报告</translation>
    </message>
    <message>
      <source>Push result</source>
      <translation>上报结果</translation>
    </message>
    <message>
      <source>Pulling the roster from the platform through the school server…</source>
      <translation>正在通过学校服务器从平台拉取名单…</translation>
    </message>
    <message>
      <source>Applying the roster…</source>
      <translation>正在应用名册…</translation>
    </message>
    <message>
      <source>Cancelled: nothing was changed.</source>
      <translation>已取消，没有做任何修改。</translation>
    </message>
    <message>
      <source>Pulling aid records…</source>
      <translation>正在拉取资助记录…</translation>
    </message>
    <message>
      <source>Pushing to the platform…</source>
      <translation>正在上报…</translation>
    </message>
    <message>
      <source>Building the reconciliation report…</source>
      <translation>正在生成对账报告…</translation>
    </message>
    <message>
      <source>Save the reconciliation report</source>
      <translation>保存对账报告</translation>
    </message>
    <message>
      <source>Excel workbook (*.xlsx)</source>
      <translation>Excel 工作簿 (*.xlsx)</translation>
    </message>
    <message>
      <source>Saving the report…</source>
      <translation>正在保存报告…</translation>
    </message>
    <message>
      <source>Push result by kind</source>
      <translation>按类型的上报结果</translation>
    </message>
    <message>
      <source>Refused by the platform</source>
      <translation>被平台拒绝</translation>
    </message>
    <message>
      <source>A term looks like 2026-2027-1 (school year, then 1 or 2).</source>
      <translation>学期格式应如 2026-2027-1（学年，再加 1 或 2）。</translation>
    </message>
    <message>
      <source>Offline: the school server cannot be reached. The exchange with the platform runs on the school server; try again when this computer is on the school's network.</source>
      <translation>离线：连接不上学校服务器。与平台的数据交换由学校服务器完成，请在本机连上学校网络后再试。</translation>
    </message>
    <message>
      <source>Nothing to apply: the roster is up to date.</source>
      <translation>名册已是最新，无需应用。</translation>
    </message>
    <message>
      <source>Read the changes, then apply them or cancel. Nothing has been changed yet.</source>
      <translation>请核对以下变化，再选择应用或取消。目前尚未做任何修改。</translation>
    </message>
    <message>
      <source>The school server has the new records; sync to receive them on this computer.</source>
      <translation>学校服务器已有新的记录，请同步以便在本机看到。</translation>
    </message>
    <message>
      <source>Pushed {items}: {sent} newly received, {dup} already there, {rejected} refused, {pending} waiting; {cells} statistics cells.</source>
      <translation>上报 {items} 条：平台新接收 {sent} 条，平台已有 {dup} 条，被拒绝 {rejected} 条，待上报 {pending} 条；统计 {cells} 个单元格。</translation>
    </message>
    <message>
      <source>Change</source>
      <translation>变化</translation>
    </message>
    <message>
      <source>Platform ref</source>
      <translation>平台编号</translation>
    </message>
    <message>
      <source>What changes</source>
      <translation>变化内容</translation>
    </message>
    <message>
      <source>Items</source>
      <translation>条数</translation>
    </message>
    <message>
      <source>Sent</source>
      <translation>已上报</translation>
    </message>
    <message>
      <source>Pending</source>
      <translation>待上报</translation>
    </message>
    <message>
      <source>Item</source>
      <translation>上报条目</translation>
    </message>
    <message>
      <source>When</source>
      <translation>时间</translation>
    </message>
    <message>
      <source>Who</source>
      <translation>操作人</translation>
    </message>
    <message>
      <source>Direction</source>
      <translation>方向</translation>
    </message>
    <message>
      <source>Operation</source>
      <translation>操作</translation>
    </message>
    <message>
      <source>Result</source>
      <translation>结果</translation>
    </message>
    <message>
      <source>Fields</source>
      <translation>字段</translation>
    </message>
    <message>
      <source>Not connected to the school server: the platform exchange needs the school server.</source>
      <translation>未连接学校服务器：与平台的数据交换需要通过学校服务器进行。</translation>
    </message>
    <message>
      <source>No longer on the roster</source>
      <translation>不在名册</translation>
    </message>
    <message>
      <source>New {new}, changed {changed}, no longer on the roster {gone}, unchanged {same}.</source>
      <translation>新增 {new} 名，变更 {changed} 名，不在名册 {gone} 名，无变化 {same} 名。</translation>
    </message>
    <message>
      <source>Applied: {new} new, {changed} changed, {gone} no longer on the roster.</source>
      <translation>已应用：新增 {new} 名，变更 {changed} 名，不在名册 {gone} 名。</translation>
    </message>
    <message>
      <source>Aid records: {received} received, {added} new, {already} already there.</source>
      <translation>资助记录：收到 {received} 条，新增 {added} 条，已有 {already} 条。</translation>
    </message>
    <message>
      <source>Reconciliation report for {term}, made {when}.</source>
      <translation>{term} 学期对账报告，生成于 {when}。</translation>
    </message>
    <message>
      <source>Level at school</source>
      <translation>学校认定等级</translation>
    </message>
    <message>
      <source>Status</source>
      <translation>状态</translation>
    </message>
    <message>
      <source>New</source>
      <translation>新增</translation>
    </message>
    <message>
      <source>Changed</source>
      <translation>变更</translation>
    </message>
    <message>
      <source>Saved {path}.</source>
      <translation>已保存 {path}。</translation>
    </message>
    <message>
      <source>Down</source>
      <translation>下行</translation>
    </message>
    <message>
      <source>Up</source>
      <translation>上行</translation>
    </message>
    <message>
      <source>The school server exchanges with the platform at {url} as school {code}.</source>
      <translation>学校服务器以学校代码 {code} 与平台 {url} 交换数据。</translation>
    </message>
    <message>
      <source>{n} students are not on the school's roster.</source>
      <translation>其中 {n} 名学生不在本校名册中。</translation>
    </message>
    <message>
      <source>Apply the roster?</source>
      <translation>应用这份名册吗？</translation>
    </message>
    <message>
      <source>More than half of the students would no longer be on the roster. This can mean a wrong term or a problem on the platform. Nothing is deleted either way. Apply anyway?</source>
      <translation>超过一半的学生将不在名册中，可能是学期选错或平台数据有误。无论是否应用，都不会删除任何记录。仍要应用吗？</translation>
    </message>
    <!-- the officer's coverage, data-quality and public-notice screens (issue 6) -->
    <message>
      <source>Coverage</source>
      <translation>覆盖率</translation>
    </message>
    <message>
      <source>Data quality</source>
      <translation>数据质量</translation>
    </message>
    <message>
      <source>Public notice</source>
      <translation>公示</translation>
    </message>
    <message>
      <source>reported by the school</source>
      <translation>由学校自报</translation>
    </message>
    <message>
      <source>nobody to cover</source>
      <translation>无对象</translation>
    </message>
    <message>
      <source>Coverage chart</source>
      <translation>覆盖率图表</translation>
    </message>
    <message>
      <source>Refresh</source>
      <translation>刷新</translation>
    </message>
    <message>
      <source>Coverage per class</source>
      <translation>各班覆盖率</translation>
    </message>
    <message>
      <source>Six full coverages</source>
      <translation>六个全覆盖</translation>
    </message>
    <message>
      <source>Select a class to chart it, a cell to list the students that coverage still misses (double-click one to open the growth file). Percentages count the students each coverage applies to: every student, the hardship students, or the key-support students.</source>
      <translation>选中一个班级即可在图中查看该班，选中一个单元格可列出该项尚未覆盖的学生（双击学生打开其成长档案）。百分比按各项覆盖的对象计算：全体学生、家庭经济困难学生或重点帮扶对象。</translation>
    </message>
    <message>
      <source>Students not covered</source>
      <translation>尚未覆盖的学生</translation>
    </message>
    <message>
      <source>Not yet covered — {what}, {who}: {n} students</source>
      <translation>尚未覆盖 — {what}，{who}：{n} 名学生</translation>
    </message>
    <message>
      <source>{classes} classes, {students} students on the roster.</source>
      <translation>共 {classes} 个班级，名册在册学生 {students} 人。</translation>
    </message>
    <message>
      <source>Six full coverages: {who}</source>
      <translation>六个全覆盖：{who}</translation>
    </message>
    <message>
      <source>Open</source>
      <translation>公示中</translation>
    </message>
    <message>
      <source>Closed</source>
      <translation>已结束</translation>
    </message>
    <message>
      <source>Public notices</source>
      <translation>公示列表</translation>
    </message>
    <message>
      <source>Masked list of determinations</source>
      <translation>认定结果脱敏名单</translation>
    </message>
    <message>
      <source>Objections</source>
      <translation>异议</translation>
    </message>
    <message>
      <source>Date received</source>
      <translation>收到日期</translation>
    </message>
    <message>
      <source>About</source>
      <translation>涉及对象</translation>
    </message>
    <message>
      <source>Objection</source>
      <translation>异议内容</translation>
    </message>
    <message>
      <source>Record the objection</source>
      <translation>登记异议</translation>
    </message>
    <message>
      <source>Record an objection</source>
      <translation>登记异议</translation>
    </message>
    <message>
      <source>How it was handled</source>
      <translation>处理情况</translation>
    </message>
    <message>
      <source>Handle the selected objection</source>
      <translation>处理选中的异议</translation>
    </message>
    <message>
      <source>Close the notice</source>
      <translation>结束公示</translation>
    </message>
    <message>
      <source>After the period has ended with every objection handled; the determinations then become final</source>
      <translation>公示期满且异议全部处理后才能结束；结束后认定结果生效</translation>
    </message>
    <message>
      <source>Why the notice cannot close yet</source>
      <translation>尚不能结束公示的原因</translation>
    </message>
    <message>
      <source>Print the notice…</source>
      <translation>打印公示名单…</translation>
    </message>
    <message>
      <source>Handle and close</source>
      <translation>处理异议与结束公示</translation>
    </message>
    <message>
      <source>No public notice yet: publish one from the collective review screen.</source>
      <translation>还没有公示：请在“集体评议”页面发布公示。</translation>
    </message>
    <message>
      <source>The whole notice</source>
      <translation>整体</translation>
    </message>
    <message>
      <source>Masked list, as published</source>
      <translation>公示名单（脱敏）</translation>
    </message>
    <message>
      <source>Public notice and objections</source>
      <translation>公示与异议处理</translation>
    </message>
    <message>
      <source>Select an objection in the list first.</source>
      <translation>请先在列表中选中一条异议。</translation>
    </message>
    <message>
      <source>The notice is closed; its determinations are final.</source>
      <translation>公示已结束，认定结果已生效。</translation>
    </message>
    <message>
      <source>Review meeting</source>
      <translation>评议会议</translation>
    </message>
    <message>
      <source>Notice period</source>
      <translation>公示期</translation>
    </message>
    <message>
      <source>Objections (open)</source>
      <translation>异议（未处理）</translation>
    </message>
    <message>
      <source>No.</source>
      <translation>序号</translation>
    </message>
    <message>
      <source>Received</source>
      <translation>收到日期</translation>
    </message>
    <message>
      <source>Content</source>
      <translation>内容</translation>
    </message>
    <message>
      <source>Handled</source>
      <translation>处理日期</translation>
    </message>
    <message>
      <source>Closed: the determinations are final.</source>
      <translation>已结束：认定结果已生效。</translation>
    </message>
    <message>
      <source>Close the notice? Its determinations become final and can no longer be changed.</source>
      <translation>确定结束公示吗？结束后认定结果生效，不能再修改。</translation>
    </message>
    <message>
      <source>Not yet</source>
      <translation>未处理</translation>
    </message>
    <message>
      <source>Data-quality counts per class</source>
      <translation>各班数据质量问题数</translation>
    </message>
    <message>
      <source>Students behind the selected count</source>
      <translation>所选数字对应的学生</translation>
    </message>
    <message>
      <source>All checks</source>
      <translation>全部检查项</translation>
    </message>
    <message>
      <source>Total</source>
      <translation>合计</translation>
    </message>
    <message>
      <source>Select a count to see the students behind it; double-click a student (or press Enter) to open the growth file.</source>
      <translation>选中一个数字可查看对应的学生；双击学生（或按回车）打开其成长档案。</translation>
    </message>
    <message>
      <source>Check</source>
      <translation>检查项</translation>
    </message>
    <message>
      <source>{what} — {who}: {problems} problems, {n} students</source>
      <translation>{what} — {who}：{problems} 个问题，涉及 {n} 名学生</translation>
    </message>
    <message>
      <source>Whole school</source>
      <translation>全校</translation>
    </message>
    <message>
      <source>Support centre</source>
      <translation>支持中心</translation>
    </message>
    <message>
      <source>Student development support centre</source>
      <translation>学生发展支持中心</translation>
    </message>
    <message>
      <source>Home visits</source>
      <translation>家访</translation>
    </message>
    <message>
      <source>Every student visited on site (phone and video visits do not count)</source>
      <translation>家访全覆盖（只计实地走访，电话、视频家访不计）</translation>
    </message>
    <message>
      <source>Every hardship student rewarded</source>
      <translation>成长奖励全覆盖</translation>
    </message>
    <message>
      <source>Growth files</source>
      <translation>成长档案</translation>
    </message>
    <message>
      <source>Every key-support student with a mentor</source>
      <translation>育人导师配备全覆盖</translation>
    </message>
    <message>
      <source>Case discussions</source>
      <translation>常态化研讨</translation>
    </message>
    <message>
      <source>Every key-support student discussed</source>
      <translation>常态化研讨全覆盖</translation>
    </message>
    <message>
      <source>Missing fields</source>
      <translation>必填缺失</translation>
    </message>
    <message>
      <source>Required fields missing</source>
      <translation>必填项缺失</translation>
    </message>
    <message>
      <source>Overdue visits</source>
      <translation>家访逾期</translation>
    </message>
    <message>
      <source>Home visits overdue this term</source>
      <translation>本学期家访逾期</translation>
    </message>
    <message>
      <source>Key, no mentor</source>
      <translation>重点无导师</translation>
    </message>
    <message>
      <source>Key-support students without a mentor</source>
      <translation>重点帮扶对象未配备育人导师</translation>
    </message>
    <message>
      <source>Hardship, no reward</source>
      <translation>困难无奖励</translation>
    </message>
    <message>
      <source>Hardship students without a growth reward</source>
      <translation>困难学生无成长奖励</translation>
    </message>
    <message>
      <source>File, no visit</source>
      <translation>档案无家访</translation>
    </message>
    <message>
      <source>Growth files without an on-site home visit</source>
      <translation>成长档案无实地家访记录</translation>
    </message>
    <message>
      <source>Duplicates?</source>
      <translation>疑似重复</translation>
    </message>
    <message>
      <source>Possible duplicate visits</source>
      <translation>疑似重复家访</translation>
    </message>
    <message>
      <source>Old conflicts</source>
      <translation>冲突超 7 天</translation>
    </message>
    <message>
      <source>Conflicts unresolved for more than 7 days</source>
      <translation>超过 7 天未处理的冲突</translation>
    </message>
    <message>
      <source>{years} school year, {half} term</source>
      <translation>{years}学年第{half}学期</translation>
    </message>
    <message>
      <source>first</source>
      <translation>一</translation>
    </message>
    <message>
      <source>second</source>
      <translation>二</translation>
    </message>
    <message>
      <source>no longer on the roster</source>
      <translation>已不在名册</translation>
    </message>
    <message>
      <source>Reset the passphrase with the recovery key</source>
      <translation>用恢复密钥重设口令</translation>
    </message>
    <message>
      <source>Type the recovery key from the printed sheet (capital or small letters, with or without dashes) and choose a new passphrase. Your records stay as they are.</source>
      <translation>请输入打印件上的恢复密钥（大小写均可，短横线可省略），并设置新口令。已有的记录都不会改变。</translation>
    </message>
    <message>
      <source>New passphrase</source>
      <translation>新口令</translation>
    </message>
    <message>
      <source>Repeat the new passphrase</source>
      <translation>再输入一次新口令</translation>
    </message>
    <message>
      <source>Reset the passphrase and open</source>
      <translation>重设口令并打开</translation>
    </message>
    <message>
      <source>8 groups of 4 characters, as printed</source>
      <translation>共 8 组、每组 4 个字符，与打印件一致</translation>
    </message>
    <message>
      <source>Enter the recovery key from the printed sheet.</source>
      <translation>请输入打印件上的恢复密钥。</translation>
    </message>
    <message>
      <source>Forgot the passphrase? Use the recovery key</source>
      <translation>忘记口令？使用恢复密钥</translation>
    </message>
    <message>
      <source>The passphrase was changed. From now on, open the profile with the new one; the recovery key stays valid.</source>
      <translation>口令已更改。今后请用新口令打开档案；恢复密钥仍然有效。</translation>
    </message>
    <message>
      <source>On-site home visits</source>
      <translation>实地家访</translation>
    </message>
    <message>
      <source>Phone and video visits</source>
      <translation>电话/视频家访</translation>
    </message>
    <message>
      <source>Rewards entered</source>
      <translation>成长奖励登记</translation>
    </message>
    <message>
      <source>Collective reviews sat on</source>
      <translation>参加集体评议</translation>
    </message>
    <message>
      <source>Records reviewed</source>
      <translation>记录审核</translation>
    </message>
    <message>
      <source>Print the statement…</source>
      <translation>打印统计表…</translation>
    </message>
    <message>
      <source>Work</source>
      <translation>工作内容</translation>
    </message>
    <message>
      <source>Count</source>
      <translation>次数</translation>
    </message>
    <message>
      <source>Workload counts</source>
      <translation>工作量汇总</translation>
    </message>
    <message>
      <source>Work counted</source>
      <translation>计入的工作明细</translation>
    </message>
    <message>
      <source>Workload statement</source>
      <translation>学生资助工作量统计</translation>
    </message>
    <message>
      <source>Save the workload statement</source>
      <translation>保存工作量统计表</translation>
    </message>
    <message>
      <source>Workload</source>
      <translation>工作量</translation>
    </message>
    <message>
      <source>How it is counted: on-site visits are the teacher's own finalized on-site visit records (a correction is not counted again, a voided record not at all); phone and video visits are listed apart and never count as on-site; mentor notes and case discussions are the mentor notes they wrote; rewards are those they entered in growth files (not those from the city platform); collective reviews are the term's review meetings they sat on as a reviewer. Students are shown masked.</source>
      <translation>统计口径：实地家访为本人填写并定稿的实地走访记录（更正记录不重复计，作废的不计）；电话、视频家访单列，不计入实地家访；导师记录与常态化研讨为本人撰写的育人导师记录；成长奖励登记为本人在资助成长档案中登记的奖励（市平台导入的不计）；参加集体评议为本人作为评议人参加的本学期集体评议。学生姓名已隐去部分。</translation>
    </message>
    <message>
      <source>Notes overdue</source>
      <translation>导师记录超期</translation>
    </message>
    <message>
      <source>Key-support students whose mentor has not written within the set interval</source>
      <translation>导师超过规定间隔未写记录的重点帮扶对象</translation>
    </message>
    <message>
      <source>No discussion</source>
      <translation>未研讨</translation>
    </message>
    <message>
      <source>Key-support students with no case discussion this term (after mid-term)</source>
      <translation>本学期过半仍未开展常态化研讨的重点帮扶对象</translation>
    </message>
    <message>
      <source>Every hardship student with a complete growth file: an on-site visit, traits and a reward</source>
      <translation>每名困难学生都有完整的成长档案：实地家访、学生特点和成长奖励</translation>
    </message>
    <message>
      <source>School aid</source>
      <translation>学校资助</translation>
    </message>
    <message>
      <source>Activity or study trip</source>
      <translation>活动或研学</translation>
    </message>
    <message>
      <source>Add to the growth file</source>
      <translation>添加成长记录</translation>
    </message>
    <message>
      <source>Entry kind</source>
      <translation>记录类别</translation>
    </message>
    <message>
      <source>Aid kind</source>
      <translation>资助类别</translation>
    </message>
    <message>
      <source>Amount (yuan)</source>
      <translation>金额（元）</translation>
    </message>
    <message>
      <source>Programme</source>
      <translation>项目名称</translation>
    </message>
    <message>
      <source>Add to the growth file…</source>
      <translation>添加成长记录…</translation>
    </message>
    <message>
      <source>Orphaned work</source>
      <translation>孤立记录</translation>
    </message>
    <message>
      <source>In use</source>
      <translation>使用中</translation>
    </message>
    <message>
      <source>Retiring: uploads, then wipes at its next sync</source>
      <translation>退役中：下次同步时先上传，再清除</translation>
    </message>
    <message>
      <source>Retired: uploaded everything and wiped</source>
      <translation>已退役：已全部上传并清除</translation>
    </message>
    <message>
      <source>Revoked: wipes at its next call</source>
      <translation>已注销：下次连接时清除</translation>
    </message>
    <message>
      <source>Revoked and wiped</source>
      <translation>已注销并清除</translation>
    </message>
    <message>
      <source>Growth entry</source>
      <translation>成长记录</translation>
    </message>
    <message>
      <source>Growth file field</source>
      <translation>成长档案字段</translation>
    </message>
    <message>
      <source>Conflict decision</source>
      <translation>冲突处理</translation>
    </message>
    <message>
      <source> (draft)</source>
      <translation>（草稿）</translation>
    </message>
    <message>
      <source>made while assigned</source>
      <translation>分工期间所做</translation>
    </message>
    <message>
      <source>made after the assignment ended</source>
      <translation>分工结束后所做</translation>
    </message>
    <message>
      <source>Orphaned work and devices</source>
      <translation>孤立记录与设备</translation>
    </message>
    <message>
      <source>Uploads the server did not save as their teacher&apos;s records (the student was moved to another teacher, the laptop was revoked, the record was already final). Nothing is lost: accept, hand over or discard each one with a reason.</source>
      <translation>以下是服务器没有作为教师记录保存的上传内容（学生已改由其他老师负责、电脑已被注销、记录已定稿等）。内容都没有丢失：请逐条接受、转交，或说明原因后丢弃。</translation>
    </message>
    <message>
      <source>Reason (required to discard)</source>
      <translation>原因（丢弃时必填）</translation>
    </message>
    <message>
      <source>Accept into the record</source>
      <translation>接受为正式记录</translation>
    </message>
    <message>
      <source>Hand over to the teacher in charge</source>
      <translation>转交给现任老师</translation>
    </message>
    <message>
      <source>Discard</source>
      <translation>丢弃</translation>
    </message>
    <message>
      <source>Devices</source>
      <translation>设备</translation>
    </message>
    <message>
      <source>Retire (being replaced)</source>
      <translation>退役（换新电脑）</translation>
    </message>
    <message>
      <source>Revoke (lost or stolen)</source>
      <translation>注销（丢失或被盗）</translation>
    </message>
    <message>
      <source>Retire {device}? It uploads everything at its next sync, then deletes the students&apos; data.</source>
      <translation>将 {device} 退役？它下次同步时会先上传全部记录，然后清除本机的学生资料。</translation>
    </message>
    <message>
      <source>Revoke {device}? It deletes the students&apos; data at its next call; what it still sends waits here for you to check.</source>
      <translation>注销 {device}？它下次连接时会清除本机的学生资料；它仍上传的内容会在这里等待您核实。</translation>
    </message>
    <message>
      <source>Retire device</source>
      <translation>退役设备</translation>
    </message>
    <message>
      <source>Revoke device</source>
      <translation>注销设备</translation>
    </message>
    <message>
      <source>No orphaned work waits for a decision.</source>
      <translation>没有待处理的孤立记录。</translation>
    </message>
    <message>
      <source>Choose a row first.</source>
      <translation>请先选择一行。</translation>
    </message>
    <message>
      <source>Say why it is discarded: the reason is kept with it.</source>
      <translation>请说明丢弃的原因：原因会与内容一起保存。</translation>
    </message>
    <message>
      <source>Choose a device first.</source>
      <translation>请先选择一台设备。</translation>
    </message>
    <message>
      <source>What</source>
      <translation>内容类型</translation>
    </message>
    <message>
      <source>Written by</source>
      <translation>填写人</translation>
    </message>
    <message>
      <source>Why</source>
      <translation>原因</translation>
    </message>
    <message>
      <source>Device</source>
      <translation>设备</translation>
    </message>
    <message>
      <source>State</source>
      <translation>状态</translation>
    </message>
    <message>
      <source>{n} pieces of orphaned work wait for a decision.</source>
      <translation>有 {n} 条孤立记录等待处理。</translation>
    </message>
    <message>
      <source>Accepted into the record.</source>
      <translation>已接受为正式记录。</translation>
    </message>
    <message>
      <source>Handed over; the teacher receives it at their next sync.</source>
      <translation>已转交；该老师下次同步时会收到。</translation>
    </message>
    <message>
      <source>Discarded; the content and the reason are kept.</source>
      <translation>已丢弃；内容和原因仍然保存。</translation>
    </message>
    <message>
      <source>{n} changes could not be saved as your records (for example, the student was moved to another teacher); the school server keeps them for the aid officer, nothing is lost.</source>
      <translation>有 {n} 条修改未能作为您的记录保存（例如学生已改由其他老师负责）；学校服务器已保存这些内容，交由资助专干处理，没有丢失。</translation>
    </message>
    <!-- support centre, key support, retention (issue 15) -->
    <message>
      <source>Centre and retention</source>
      <translation>支持中心与保存期</translation>
    </message>
    <message>
      <source>yes</source>
      <translation>是</translation>
    </message>
    <message>
      <source>Name of the support centre</source>
      <translation>支持中心名称</translation>
    </message>
    <message>
      <source>Evidence</source>
      <translation>佐证材料</translation>
    </message>
    <message>
      <source>What you saw: the room, the duty roster, the records it keeps</source>
      <translation>核实情况：场地、值班安排、工作记录等</translation>
    </message>
    <message>
      <source>Record the support centre for this term</source>
      <translation>登记本学期的学生发展支持中心</translation>
    </message>
    <message>
      <source>Students on the roster</source>
      <translation>名册上的学生</translation>
    </message>
    <message>
      <source>Reason (required)</source>
      <translation>理由（必填）</translation>
    </message>
    <message>
      <source>Designate for key support</source>
      <translation>认定为重点帮扶对象</translation>
    </message>
    <message>
      <source>Withdraw key support</source>
      <translation>取消重点帮扶</translation>
    </message>
    <message>
      <source>due: archive, then erase</source>
      <translation>已届满：先归档，再删除</translation>
    </message>
    <message>
      <source>kept</source>
      <translation>保存中</translation>
    </message>
    <message>
      <source>archived: may be erased</source>
      <translation>已归档，可删除</translation>
    </message>
    <message>
      <source>Students no longer on the roster</source>
      <translation>已不在名册的学生</translation>
    </message>
    <message>
      <source>Make the archive PDF…</source>
      <translation>生成长期档案文件…</translation>
    </message>
    <message>
      <source>Student id</source>
      <translation>学生 ID</translation>
    </message>
    <message>
      <source>Erased on</source>
      <translation>删除日期</translation>
    </message>
    <message>
      <source>Records erased</source>
      <translation>已删除记录数</translation>
    </message>
    <message>
      <source>Late changes erased</source>
      <translation>已删除的迟到记录</translation>
    </message>
    <message>
      <source>Students erased from this computer</source>
      <translation>本机已删除的学生</translation>
    </message>
    <message>
      <source>Erase late work…</source>
      <translation>删除迟到的记录…</translation>
    </message>
    <message>
      <source>A change about an erased student that a computer had not sent yet arrives afterwards and waits, unapplied, on the Orphaned work screen. Print it there if the archive needs it, then erase it here: the server erases it and adds it to the deletion record.</source>
      <translation>学生资料删除时某台电脑尚未上传的修改，会在删除后到达，作为孤立记录等候处理（不会写入）。如长期档案需要，请先在“孤立记录”中打印，再在此删除：服务器删除这些记录，并计入删除记录。</translation>
    </message>
    <message>
      <source>Choose an erased student first.</source>
      <translation>请先选择一名已删除的学生。</translation>
    </message>
    <message>
      <source>Erase late work</source>
      <translation>删除迟到的记录</translation>
    </message>
    <message>
      <source>Erase from the school server what computers sent about {student} after the erase? Print it from the Orphaned work screen first if the archive needs it; this cannot be undone.</source>
      <translation>从学校服务器删除学生 {student} 的资料删除后各电脑才上传的记录？如长期档案需要，请先在“孤立记录”中打印；删除后不能恢复。</translation>
    </message>
    <message>
      <source>Erased {n} late changes from the school server; they are in the deletion record.</source>
      <translation>已从学校服务器删除 {n} 条迟到的记录，已计入删除记录。</translation>
    </message>
    <message>
      <source>Nothing about this student arrived after the erase.</source>
      <translation>删除之后没有收到关于该学生的记录。</translation>
    </message>
    <message>
      <source>Erase from the server and every computer</source>
      <translation>从服务器和所有电脑删除</translation>
    </message>
    <message>
      <source>Retention</source>
      <translation>保存期</translation>
    </message>
    <message>
      <source>Save the archive PDF</source>
      <translation>保存长期档案</translation>
    </message>
    <message>
      <source>Support centre, key support and retention</source>
      <translation>支持中心、重点帮扶与资料保存期</translation>
    </message>
    <message>
      <source>Not recorded for this term: coverage 1 counts 0 of 1.</source>
      <translation>本学期尚未登记：第一项覆盖计为 0/1。</translation>
    </message>
    <message>
      <source>Support centre recorded; coverage 1 counts it.</source>
      <translation>已登记学生发展支持中心，第一项覆盖已计入。</translation>
    </message>
    <message>
      <source>Choose a student first.</source>
      <translation>请先选择一名学生。</translation>
    </message>
    <message>
      <source>Erase the student&apos;s records</source>
      <translation>删除该学生的资料</translation>
    </message>
    <message>
      <source>Left the roster</source>
      <translation>离开名册</translation>
    </message>
    <message>
      <source>Retention ends</source>
      <translation>保存期届满</translation>
    </message>
    <message>
      <source>Term: {term}</source>
      <translation>学期：{term}</translation>
    </message>
    <message>
      <source>A student&apos;s records are kept for {n} school years after the student leaves the roster (the setting is on the Settings screen). When that has passed, make the archive PDF the school keeps, then erase: the records leave the school server at once and every other computer at its next sync, after it has sent what it had not sent yet. The deletion record (what, how many, when, who; no content) stays in the audit trail.</source>
      <translation>学生离开名册后，其资料保存 {n} 个学年（在“设置”中修改）。期满后，先生成由学校保管的长期档案 PDF，再删除：资料立即从学校服务器删除，其他电脑在下次同步时（先上传尚未上传的内容）清除。删除记录（删除了什么、多少条、何时、由谁；不含内容）保存在审计日志中。</translation>
    </message>
    <message>
      <source>Key support designated.</source>
      <translation>已认定为重点帮扶对象。</translation>
    </message>
    <message>
      <source>Key support withdrawn.</source>
      <translation>已取消重点帮扶。</translation>
    </message>
    <message>
      <source>Recorded for this term on {day}.</source>
      <translation>本学期已于 {day} 登记。</translation>
    </message>
    <message>
      <source>Archive saved: {path} (SHA-256 {digest}).</source>
      <translation>长期档案已保存：{path}（SHA-256 {digest}）。</translation>
    </message>
    <message>
      <source>Erase every record about {name} from the school server and every computer? The archive PDF is what remains; this cannot be undone.</source>
      <translation>从学校服务器和所有电脑上删除关于{name}的全部记录？删除后只留下长期档案 PDF，且无法撤销。</translation>
    </message>
    <message>
      <source>Erased {n} records from the school server; other computers erase them at their next sync.</source>
      <translation>已从学校服务器删除 {n} 条记录；其他电脑在下次同步时清除。</translation>
    </message>
    <message>
      <source>A mentor writes at least every</source>
      <translation>导师记录间隔不超过</translation>
    </message>
    <message>
      <source>Keep a leaver&apos;s records for</source>
      <translation>离开名册学生资料保存</translation>
    </message>
    <message>
      <source>The school&apos;s rules (officer): the data-quality check 导师记录超期未写 lists key-support students whose mentor has not written within the days above (定期记录); a student&apos;s records are kept for the school years above after the student leaves the roster, then archived and erased.</source>
      <translation>学校规定（资助专干设置）：数据质量检查“导师记录超期未写”列出育人导师超过上述天数未写记录的重点帮扶学生（定期记录）；学生离开名册后，其资料保存上述学年数，期满后归档并删除。</translation>
    </message>
    <message>
      <source>days</source>
      <translation>天</translation>
    </message>
    <message>
      <source>school years</source>
      <translation>个学年</translation>
    </message>
    <message>
      <source>A student development support centre in every school, recorded this term by the officer (name and evidence)</source>
      <translation>每所学校建立学生发展支持中心（由资助专干每学期登记名称和佐证材料）</translation>
    </message>
    <message>
      <source>Applications</source>
      <translation>申请与全过程</translation>
    </message>
    <message>
      <source>Review of records</source>
      <translation>记录审核</translation>
    </message>
    <message>
      <source>Date applied</source>
      <translation>申请日期</translation>
    </message>
    <message>
      <source>How it was applied</source>
      <translation>申请方式</translation>
    </message>
    <message>
      <source>What the family says</source>
      <translation>申请说明（家庭陈述）</translation>
    </message>
    <message>
      <source>Record the application</source>
      <translation>登记申请</translation>
    </message>
    <message>
      <source>Papers received</source>
      <translation>已收材料</translation>
    </message>
    <message>
      <source>New application</source>
      <translation>登记新申请</translation>
    </message>
    <message>
      <source>Application to determination</source>
      <translation>申请至认定全过程</translation>
    </message>
    <message>
      <source>Print the chain…</source>
      <translation>打印全过程记录…</translation>
    </message>
    <message>
      <source>Applications of this student</source>
      <translation>该学生的申请记录</translation>
    </message>
    <message>
      <source>Application → visit → review → collective review → notice → determination</source>
      <translation>申请 → 家访 → 审核 → 集体评议 → 公示 → 认定</translation>
    </message>
    <message>
      <source>Only the aid officer or the student's class teacher records an application.</source>
      <translation>只有资助专干或该学生的班主任（家访教师）可以登记申请。</translation>
    </message>
    <message>
      <source>The application was recorded.</source>
      <translation>申请已登记。</translation>
    </message>
    <message>
      <source>Step</source>
      <translation>环节</translation>
    </message>
    <message>
      <source>Done</source>
      <translation>是否完成</translation>
    </message>
    <message>
      <source>By</source>
      <translation>经办人</translation>
    </message>
    <message>
      <source>Edit the returned entry…</source>
      <translation>按审核意见修改…</translation>
    </message>
    <message>
      <source>Review</source>
      <translation>审核</translation>
    </message>
    <message>
      <source>Records waiting for review</source>
      <translation>待审核的记录</translation>
    </message>
    <message>
      <source>Review comment</source>
      <translation>审核意见</translation>
    </message>
    <message>
      <source>Reviewed (approve)</source>
      <translation>审核通过</translation>
    </message>
    <message>
      <source>Return to the author…</source>
      <translation>退回作者…</translation>
    </message>
    <message>
      <source>谁审核谁负责: the reviewer answers for each record they review. Finalized visit records and growth entries wait here until reviewed; a returned record goes back to its author with your comment (a visit is corrected by an amendment, a growth entry is edited) and comes back here. Nobody reviews their own records.</source>
      <translation>谁审核谁负责：审核人对所审核的每条记录负责。已定稿的家访记录和成长档案条目在此等待审核；退回的记录连同审核意见回到作者处（家访记录以更正记录修改，成长档案条目直接修改），修改后重新回到这里。任何人不得审核自己填写的记录。</translation>
    </message>
    <message>
      <source>Grade leader</source>
      <translation>年级审核人</translation>
    </message>
    <message>
      <source>Grade (start of the class names)</source>
      <translation>负责年级（班级名称开头）</translation>
    </message>
    <message>
      <source>Name as reviewer</source>
      <translation>指定为审核人</translation>
    </message>
    <message>
      <source>End the selected appointment</source>
      <translation>取消所选审核人</translation>
    </message>
    <message>
      <source>Reviewers named</source>
      <translation>已指定的审核人</translation>
    </message>
    <message>
      <source>Reviewers (grade leaders)</source>
      <translation>审核人（年级组长）</translation>
    </message>
    <message>
      <source>Only the aid officer and the grade leaders the officer names review records.</source>
      <translation>只有资助专干和资助专干指定的年级审核人可以审核记录。</translation>
    </message>
    <message>
      <source>Choose a record first.</source>
      <translation>请先选择一条记录。</translation>
    </message>
    <message>
      <source>Author</source>
      <translation>填写人</translation>
    </message>
    <message>
      <source>Review state</source>
      <translation>审核状态</translation>
    </message>
    <message>
      <source>Grade</source>
      <translation>年级</translation>
    </message>
    <message>
      <source>Review: waiting for review.</source>
      <translation>审核：待审核。</translation>
    </message>
    <message>
      <source>Returned by {name} on {day}: {comment} — correct it with Correct (amend).</source>
      <translation>{name}于 {day} 退回：{comment}——请用“更正”修改。</translation>
    </message>
    <message>
      <source>Reviewed by {name} on {day}.</source>
      <translation>已由{name}于 {day} 审核。</translation>
    </message>
    <message>
      <source>Visible once the aid officer grants access</source>
      <translation>待资助专干授权后可查看</translation>
    </message>
    <message>
      <source>The family's situation in this record is visible once the aid officer grants access (待资助专干授权后可查看): it opens at the sync after the officer's. Until then it can be neither corrected nor printed here.</source>
      <translation>这条记录的家庭情况内容待资助专干授权后可查看：资助专干同步后，本机下次同步即可打开。在此之前，本机不能更正或打印这条记录。</translation>
    </message>
    <message>
      <source>Applied, no visit</source>
      <translation>已申请未走访</translation>
    </message>
    <message>
      <source>Applied this term but no finalized on-site visit yet</source>
      <translation>本学期已申请，尚无已定稿的实地家访</translation>
    </message>
    <message>
      <source>No application</source>
      <translation>缺申请</translation>
    </message>
    <message>
      <source>Visited or determined this term without an application (not needed for 免申即享)</source>
      <translation>本学期已家访或认定但无申请记录（免申即享的学生无需申请）</translation>
    </message>
    <message>
      <source>Unreviewed</source>
      <translation>未审核</translation>
    </message>
    <message>
      <source>Finalized visit records and growth entries not yet reviewed</source>
      <translation>已定稿的家访记录和成长档案条目尚未审核</translation>
    </message>
    <message>
      <source>Audit trail</source>
      <translation>审计记录</translation>
    </message>
    <message>
      <source>Verified</source>
      <translation>已验证</translation>
    </message>
    <message>
      <source>Unsigned (enrolled before signing)</source>
      <translation>未签名（该设备在启用签名之前注册）</translation>
    </message>
    <message>
      <source>Checked on the school server</source>
      <translation>在学校服务器上核验</translation>
    </message>
    <message>
      <source>Broken or forged</source>
      <translation>断开或伪造</translation>
    </message>
    <message>
      <source>Verify the trail</source>
      <translation>核验审计记录</translation>
    </message>
    <message>
      <source>Audit events</source>
      <translation>审计记录列表</translation>
    </message>
    <message>
      <source>Every change on a laptop is an event in that laptop's chain, signed with the laptop's key that the officer certified. Verified: signed by this laptop's key. Unsigned: written before the laptop had a key. Other devices' signatures are checked on the school server (visitapp-server audit verify).</source>
      <translation>每台电脑上的每一次修改都是该电脑审计链上的一条记录，并用资助专干认证过的本机密钥签名。已验证：由本机密钥签名。未签名：本机有密钥之前写下的记录。其他设备的签名在学校服务器上核验。</translation>
    </message>
    <message>
      <source>Action</source>
      <translation>操作</translation>
    </message>
    <message>
      <source>Signature</source>
      <translation>签名</translation>
    </message>
    <message>
      <source>Intact: {events} events from {devices} devices; {signed} verified, {unsigned} unsigned.</source>
      <translation>完整：{devices} 台设备共 {events} 条记录；{signed} 条已验证，{unsigned} 条未签名。</translation>
    </message>
    <message>
      <source>Broken at event {seq} of device {device} ({action}): {reason}</source>
      <translation>设备 {device} 第 {seq} 条（{action}）处断开：{reason}</translation>
    </message>
    <message>
      <source>All students</source>
      <translation>全部学生</translation>
    </message>
    <message>
      <source>All staff</source>
      <translation>全部教职工</translation>
    </message>
    <message>
      <source>From</source>
      <translation>起始日期</translation>
    </message>
    <message>
      <source>{count} events shown</source>
      <translation>显示 {count} 条</translation>
    </message>
    <message>
      <source>Refused: the fingerprints differ — the server&apos;s keys may have been swapped. Nothing was certified or trusted; ask the school&apos;s IT teacher to check the server.</source>
      <translation>已拒绝：指纹不一致，可能是服务器被替换了密钥。没有认证或信任任何密钥，请联系学校网管检查服务器。</translation>
    </message>
    <message>
      <source>Staff member</source>
      <translation>教职工</translation>
    </message>
    <message>
      <source>Make an enrollment code</source>
      <translation>生成注册码</translation>
    </message>
    <message>
      <source>Copy</source>
      <translation>复制</translation>
    </message>
    <message>
      <source>Enrollment code for a staff member&apos;s laptop</source>
      <translation>教职工电脑的注册码</translation>
    </message>
    <message>
      <source>Devices waiting for the fingerprint check</source>
      <translation>待确认指纹的设备</translation>
    </message>
    <message>
      <source>Fingerprint on that laptop&apos;s screen</source>
      <translation>那台电脑屏幕上的指纹</translation>
    </message>
    <message>
      <source>Type the fingerprint that laptop&apos;s Settings screen shows</source>
      <translation>输入那台电脑“设置”页显示的指纹</translation>
    </message>
    <message>
      <source>Compare and certify</source>
      <translation>核对并认证</translation>
    </message>
    <message>
      <source>Keys of this laptop</source>
      <translation>本机密钥</translation>
    </message>
    <message>
      <source>Officer key fingerprint</source>
      <translation>资助专干密钥指纹</translation>
    </message>
    <message>
      <source>Type the officer key fingerprint from the officer&apos;s screen</source>
      <translation>输入资助专干屏幕上显示的资助专干密钥指纹</translation>
    </message>
    <message>
      <source>Trust the officer key</source>
      <translation>信任资助专干密钥</translation>
    </message>
    <message>
      <source>Choose a staff member first.</source>
      <translation>请先选择教职工。</translation>
    </message>
    <message>
      <source>The code is copied.</source>
      <translation>注册码已复制。</translation>
    </message>
    <message>
      <source>Certified: the fingerprints match. Student keys are shared with it at this laptop&apos;s next sync.</source>
      <translation>已认证：指纹一致。本机下次同步时向它共享学生密钥。</translation>
    </message>
    <message>
      <source>This laptop&apos;s keys are not registered with a school server yet.</source>
      <translation>本机的密钥尚未登记到学校服务器。</translation>
    </message>
    <message>
      <source>No officer key trusted yet: type the fingerprint the officer&apos;s screen shows.</source>
      <translation>尚未信任资助专干密钥：请输入资助专干屏幕上显示的指纹。</translation>
    </message>
    <message>
      <source>The officer key is trusted.</source>
      <translation>已信任资助专干密钥。</translation>
    </message>
    <message>
      <source>Fingerprint the server lists</source>
      <translation>服务器列出的指纹</translation>
    </message>
    <message>
      <source>For {name}, one use, valid until {until}. That laptop enrolls with it in Settings and is certified at this laptop&apos;s next sync.</source>
      <translation>给{name}，仅可使用一次，有效期至 {until}。那台电脑在“设置”中用它注册，本机下次同步时自动认证。</translation>
    </message>
    <message>
      <source>This laptop&apos;s key fingerprint: {fingerprint} (the officer compares it)</source>
      <translation>本机密钥指纹：{fingerprint}（资助专干核对此指纹）</translation>
    </message>
    <message>
      <source>Officer key trusted: {fingerprint}</source>
      <translation>已信任的资助专干密钥：{fingerprint}</translation>
    </message>
    <message>
      <source>Fingerprint to confirm</source>
      <translation>待确认指纹</translation>
    </message>
    <message>
      <source>Certified at this laptop&apos;s next sync</source>
      <translation>本机下次同步时自动认证</translation>
    </message>
    <message>
      <source>Keys and enrollment codes</source>
      <translation>密钥与注册码</translation>
    </message>
    <message>
      <source>Print the officer recovery sheet…</source>
      <translation>打印资助专干密钥恢复页…</translation>
    </message>
    <message>
      <source>Key on the officer recovery sheet</source>
      <translation>资助专干密钥恢复页上的密钥</translation>
    </message>
    <message>
      <source>Type the 28 groups of the lost laptop's recovery sheet</source>
      <translation>输入丢失电脑的恢复页上的 28 组字符</translation>
    </message>
    <message>
      <source>Restore from the sheet</source>
      <translation>从恢复页恢复</translation>
    </message>
    <message>
      <source>Officer recovery sheet</source>
      <translation>资助专干密钥恢复页</translation>
    </message>
    <message>
      <source>Written to the file {file}, not to paper: whoever has that file can read every family's records. Print it, lock the page away, then delete the file.</source>
      <translation>已写入文件 {file}，没有打印到纸上：拿到这个文件的人能读取每个家庭的资料。请打印出来锁好，然后删除这个文件。</translation>
    </message>
    <message>
      <source>Print this page once and lock it away with the school seal: if this laptop is lost, a new officer laptop reads every family's records again with it. Whoever holds it can read them too.</source>
      <translation>请打印一次，与学校公章一同锁好：本机丢失时，新的资助专干电脑凭它重新读取每个家庭的资料。持有它的人同样能读取这些资料。</translation>
    </message>
    <message>
      <source>This laptop does not hold the officer key. If the officer's laptop was lost, type the 28 groups of its printed recovery sheet here, then sync and revoke the lost laptop.</source>
      <translation>本机没有资助专干密钥。如果资助专干的电脑丢失了，请在这里输入它打印的恢复页上的 28 组字符，然后同步，并注销丢失的电脑。</translation>
    </message>
    <message>
      <source>Print the officer recovery sheet</source>
      <translation>打印资助专干密钥恢复页</translation>
    </message>
    <message>
      <source>Restored: the officer key and {keys} students' keys of the lost laptop. Sync now, then revoke the lost laptop on the Devices tab.</source>
      <translation>已恢复资助专干密钥和丢失电脑的 {keys} 把学生密钥。请现在同步，然后在“设备”页注销丢失的电脑。</translation>
    </message>
  </context>
</TS>
