"""Every sentence a person reads about an error, defined once: message id -> (Chinese, English).

The lowest layer of the client (it imports nothing of visitapp), so the domain, the services,
the CLI and the window all take their sentences from here: an error carries a message id and
its parameters (:class:`visitapp.domain.errors.UserError`), ``str()`` of it is the Chinese (the
CLI and the log), and a window says it in its own language with :func:`text`. Placeholders are
``{name}`` and the same in both languages (a test checks it).
"""

from __future__ import annotations

import string

__all__ = ["MESSAGES", "ZH", "EN", "text", "placeholders"]

ZH, EN = "zh_CN", "en"

MESSAGES: dict[str, tuple[str, str]] = {
    # -- anything ---------------------------------------------------------------------------
    "unexpected": ("出现了问题，这一步没有完成。详细信息已写入日志文件。",
                   "Something went wrong and the action was not completed. The details were written "
                   "to the log file."),
    "domain.not_allowed": ("不允许这样修改。", "This change is not allowed."),
    "field.not_editable": ("该字段不能手工修改", "This field cannot be changed by hand"),
    "field.too_long": ("内容过长（最多 20000 字）", "The text is too long (at most 20000 characters)"),

    # -- sync and the school server ---------------------------------------------------------
    "sync.offline": ("暂时连不上学校服务器。您的记录已保存在本机，下次同步时会自动上传。",
                     "The school server cannot be reached right now. Your work is kept on this computer "
                     "and will be sent at the next sync."),
    "sync.certificate_mismatch": ("服务器证书与注册时记录的不一致，已拒绝连接。请联系学校资助专干。",
                                  "The school server showed a certificate other than the one recorded at "
                                  "enrollment, so the connection was refused. Please tell the school's aid "
                                  "officer."),
    "sync.not_enrolled": ("这台电脑还没有在学校服务器注册，无法同步。",
                          "This computer is not enrolled with a school server yet, so it cannot sync."),
    "sync.no_fingerprint": ("缺少服务器证书指纹，无法安全连接。请使用学校提供的注册码。",
                            "The server's certificate fingerprint is missing, so no safe connection can be "
                            "made. Please use the enrollment code the school gave you."),
    "sync.plain_http_refused": ("只允许在本机（loopback）上使用不加密的 http 连接；学校服务器必须使用 https。",
                                "Unencrypted http is allowed only on this computer; the school server must "
                                "use https."),
    "sync.device_revoked": ("学校已停用这台电脑的同步权限，本机上的学生资料已清除。",
                            "The school has stopped this computer's sync access; the student data on it has "
                            "been deleted."),
    "sync.device_revoked_uploaded": ("学校已停用（注销）这台电脑的同步权限，本机上的学生资料已清除；清除前未同步的"
                                     "修改（如有）已上传，交学校资助专干核实，不会丢失。",
                                     "The school has revoked this computer's sync access and the student data "
                                     "on it has been deleted; changes not yet synced (if any) were uploaded "
                                     "first, for the aid officer to check. Nothing is lost."),
    "sync.device_revoked_unsent": ("学校已停用这台电脑的同步权限，本机上的学生资料已清除；还有 {unsent} 条修改未能"
                                   "上传，暂时保留在本机，下次连接学校服务器时会自动上传。",
                                   "The school has stopped this computer's sync access and the student data on "
                                   "it has been deleted; {unsent} changes could not be uploaded yet. They stay "
                                   "on this computer and are uploaded at the next connection."),
    "sync.device_retired": ("这台电脑已按计划退役：未同步的修改已全部上传到学校服务器，本机上的学生资料已清除。",
                            "This computer has been retired as planned: every unsynced change was uploaded "
                            "to the school server and the student data on it has been deleted."),
    "sync.enroll_refused": ("注册失败：{detail}", "Enrollment failed: {detail}"),
    "sync.refused": ("服务器拒绝了请求：{detail}", "The school server refused the request: {detail}"),
    "sync.push_refused": ("上传被服务器拒绝：{detail}", "The school server refused the upload: {detail}"),
    "sync.pull_refused": ("下载被服务器拒绝：{detail}", "The school server refused the download: {detail}"),
    "enroll.not_a_code": ("这不是有效的注册码（应以 VA1. 开头）。",
                          "This is not a valid enrollment code (it should start with VA1.)."),
    "enroll.damaged_code": ("注册码已损坏，请重新复制完整的注册码。",
                            "The enrollment code is damaged. Please copy the whole code again."),
    # the server's error codes (ServerRefused: "server.<code>")
    "server.officer_only": ("只有学校资助专干可以进行此操作。", "Only the school's aid officer can do this."),
    "server.platform_not_configured": ("服务器尚未配置市平台：请在学校服务器上运行 visitapp-server platform configure。",
                                       "The school server has no city platform configured yet: run "
                                       "visitapp-server platform configure on the school server."),
    "server.preview_stale": ("预览之后平台名册或本校学生已有变化。请重新拉取名册，核对新的预览。",
                             "The roster or the school's students changed since this preview. Pull the "
                             "roster again and check the new preview."),
    "server.unauthorized": ("设备令牌无效，本机可能未在本校注册。",
                            "The school server does not recognise this computer's token; it may not be "
                            "enrolled with this school."),
    # what the school server says (sync_server: ApiError and the push answers carry the id and
    # its params; "server.<code>" alone is also what an older server's bare code is said by)
    "server.internal": ("服务器内部错误，已记录日志，请联系管理员。",
                        "Something went wrong on the school server; it was logged. Please tell the administrator."),
    "server.malformed_json": ("请求内容不是有效的 JSON。", "The request is not valid JSON."),
    "server.invalid_request": ("请求字段不正确：{problems}。", "Some fields of the request are not valid: {problems}."),
    "server.too_large": ("请求内容超过 {mib} MiB 的上限，请分批发送。",
                         "The request is larger than the {mib} MiB limit; please send it in parts."),
    "server.not_found.path": ("没有这个接口。", "The school server has no such endpoint."),
    "server.not_found.school": ("这个学区服务器上没有这所学校：每所学校的地址是 /schools/<学校代号>，见注册码。",
                                "This district server has no such school: each school's address is /schools/<slug>, "
                                "as its enrollment code says."),
    "server.method_not_allowed": ("该接口不支持这种请求方法。", "This endpoint does not take this kind of request."),
    "server.preview_stale.apply": ("平台名册或学校名册在预览之后有了变化，请重新预览后再应用。",
                                   "The platform's roster or the school's changed after the preview; please preview "
                                   "again before applying."),
    "server.officer_only.reseal": ("只有资助专干可以重新加密第三级内容。", "Only the aid officer can re-encrypt tier C content."),
    "server.officer_only.orphans": ("只有资助专干可以处理孤立记录和设备。",
                                    "Only the aid officer can handle orphaned work and devices."),
    "server.officer_only.platform": ("只有学校资助专干可以与市平台交换数据、查看对账报告。",
                                     "Only the school's aid officer can exchange data with the city platform and see "
                                     "the reconciliation reports."),
    "server.officer_only.retention": ("只有资助专干可以在保存期满后删除学生资料。",
                                      "Only the aid officer can erase a student's records after the retention period."),
    "server.officer_only.records": ("这类记录只能由资助专干维护，教师的修改已被拒绝。",
                                    "Only the aid officer keeps this kind of record; the teacher's change was refused."),
    "server.officer_only.officer_key": ("只有资助专干可以登记学校的资助专干密钥。",
                                        "Only the aid officer can register the school's officer key."),
    "server.officer_only.certify": ("只有资助专干可以认证设备公钥。", "Only the aid officer can certify a device's public keys."),
    "server.officer_only.distribute": ("只有资助专干可以分发学生的内容密钥。",
                                       "Only the aid officer can hand out students' content keys."),
    "server.officer_only.fetch_keys": ("只有资助专干可以取回其他资助专干设备的内容密钥。",
                                       "Only the aid officer can fetch the content keys of another officer device."),
    # enrollment and the device token
    "server.invalid_code": ("注册码无效，请向资助专干索取新的注册码。",
                            "The enrollment code is not valid; please ask the aid officer for a new one."),
    "server.invalid_code.tries_left": ("注册码不正确（还可尝试 {tries_left} 次）。",
                                       "The enrollment code is not correct ({tries_left} tries left)."),
    "server.code_used": ("该注册码已经使用过，每个注册码只能用一次。",
                         "This enrollment code has already been used; each code works only once."),
    "server.code_expired": ("注册码已过期，请向资助专干索取新的注册码。",
                            "The enrollment code has expired; please ask the aid officer for a new one."),
    "server.code_locked": ("该注册码输错次数过多，已失效，请索取新的注册码。",
                           "This enrollment code was entered wrongly too many times and no longer works; please "
                           "ask for a new one."),
    "server.staff_inactive": ("该教职工账号已停用。", "This staff account has been deactivated."),
    "server.unauthorized.no_token": ("缺少设备令牌，请先用注册码注册本机。",
                                     "The device token is missing; please enroll this computer with an enrollment "
                                     "code first."),
    "server.unauthorized.invalid_token": ("设备令牌无效。", "The device token is not valid."),
    "server.device_revoked": ("本机已被学校资助专干注销，本机上的数据将被清除。",
                              "The school's aid officer has revoked this computer; the data on it will be deleted."),
    "server.device_active": ("本机没有被退役或注销，不需要清除数据。",
                             "This computer was neither retired nor revoked; its data need not be deleted."),
    "server.device_mismatch.request": ("请求中的设备 ID 与令牌所属设备不一致。",
                                       "The device ID in the request is not the device the token belongs to."),
    "server.own_device": ("不能在本机上退役或注销本机。", "This computer cannot retire or revoke itself."),
    "server.resync_required.ahead": ("同步位置比服务器更新（可能换过服务器数据库），需要完整重新同步。",
                                     "This computer's sync position is ahead of the server's (its database may "
                                     "have been replaced); a full new sync is needed."),
    "server.resync_required.pruned": ("本机太久没有同步，部分删除记录已被清理，需要完整重新同步。",
                                      "This computer has not synced for too long and some deletions were cleared "
                                      "meanwhile; a full new sync is needed."),
    # conflicts, orphaned work, devices
    "server.not_found.conflict": ("找不到该冲突记录。", "The conflict cannot be found."),
    "server.already_resolved": ("该冲突已经被处理过了。", "This conflict has already been resolved."),
    "server.reason_required.conflict": ("处理冲突必须说明原因。", "Resolving a conflict must give its reason."),
    "server.value_required": ("选择“合并后的内容”时必须提供内容。", "Choosing “merged content” needs the merged content."),
    "server.sealed_format.merged": ("合并后的内容必须是 {{\"value\": 文字}} 或 {{\"text\": 文字}}。",
                                    "The merged content must be {{\"value\": text}} or {{\"text\": text}}."),
    "server.invalid_unicode.content": ("内容含有无效的 Unicode 字符。", "The content holds characters that are not valid Unicode."),
    "server.invalid_unicode.field": ("{name} 含有无效的 Unicode 字符。", "{name} holds characters that are not valid Unicode."),
    "server.unknown_conflict": ("找不到该冲突记录；冲突只能由服务器创建。",
                                "The conflict cannot be found; conflicts are made by the server only."),
    "server.invalid_fields.conflict_status": ("推送冲突记录只能用于解决冲突（status=resolved）。",
                                              "A pushed conflict record can only resolve the conflict (status=resolved)."),
    "server.invalid_fields.resolution": ("resolution 只能是 winner、loser 或 value。",
                                         "resolution can only be winner, loser or value."),
    "server.not_found.orphan": ("找不到孤立记录“{ref}”（用 orphans list 查看）。",
                                "There is no orphaned work “{ref}” (see orphans list)."),
    "server.already_resolved.orphan": ("这条孤立记录已经处理过了。", "This orphaned work has already been handled."),
    "server.reason_required.discard": ("丢弃孤立记录必须说明原因。", "Discarding orphaned work must give its reason."),
    "server.draft_not_record": ("草稿不能接受为正式记录；请把它转交给现在负责该学生的老师，或说明原因后丢弃。",
                                "A draft cannot be accepted as a record; hand it over to the teacher now in charge of "
                                "the student, or discard it with a reason."),
    "server.cannot_apply": ("无法写入记录：{reason}", "The record could not be written: {reason}"),
    # the laptop's line for a change the server kept as orphaned work: {reason} is the server's
    "server.kept_for_officer": ("未能作为您的记录写入，已交学校资助专干处理（内容已保存在服务器，不会丢失）：{reason}",
                                "Not saved as your record; it went to the school's aid officer (the server keeps "
                                "the content, nothing is lost): {reason}"),
    "server.target_required": ("请指定转交给哪位老师（该学生现在没有唯一的负责老师）。",
                               "Please say which teacher it goes to (the student has no single teacher in charge now)."),
    "server.device_revoked.quarantine": ("本机已被学校注销（丢失或被盗）；上传的内容已隔离，等待资助专干核实，不会直接生效。",
                                         "The school revoked this computer (lost or stolen); what it uploaded is held "
                                         "apart for the aid officer to check and does not take effect."),
    "server.staff_inactive.quarantine": ("该教职工账号已停用；上传的内容已隔离，等待资助专干核实，不会直接生效。",
                                         "This staff account has been deactivated; what was uploaded is held apart for "
                                         "the aid officer to check and does not take effect."),
    # the officer's and the devices' keys
    "server.keys_already_published": ("本机的公钥已经登记过，不能更换；换了电脑请重新注册。",
                                      "This computer's public keys are already registered and cannot be replaced; a "
                                      "new computer must be enrolled again."),
    "server.invalid_key.officer": ("资助专干公钥无效。", "The aid officer's public key is not valid."),
    "server.officer_key_set": ("学校的资助专干密钥已经登记过，不能在此更换。",
                               "The school's officer key is already registered and cannot be replaced here."),
    "server.no_officer_key": ("学校尚未登记资助专干密钥，请先在资助专干的电脑上完成设置。",
                              "The school has no officer key registered yet; please finish the setup on the aid "
                              "officer's computer first."),
    "server.not_found.device_key": ("找不到这台设备，或它还没有登记公钥。",
                                    "The device cannot be found, or it has not registered its public keys yet."),
    "server.not_found.officer_device": ("找不到这台资助专干的设备。", "This officer device cannot be found."),
    "server.bad_certificate": ("证书与服务器记录的设备公钥不符，未保存。",
                               "The certificate does not match the device keys the server holds; it was not saved."),
    "server.unknown_student.key": ("找不到学生 {student}。", "The student {student} cannot be found."),
    "server.device_not_certified": ("设备 {device_id} 的公钥尚未认证，不能向它分发密钥。",
                                    "The keys of device {device_id} are not certified yet, so no keys can be handed "
                                    "to it."),
    "server.device_revoked.keys": ("设备 {device_id} 已注销或退役，不再分发新的密钥。",
                                   "Device {device_id} was revoked or retired; it gets no new keys."),
    "server.bad_signature": ("学生 {student} 第 {epoch} 代密钥的签名无效，未保存。",
                             "The signature of student {student}'s key generation {epoch} is not valid; it was not "
                             "saved."),
    "server.officer_only.epoch_list": ("只有资助专干可以发布学生密钥的代数清单。",
                                       "Only the aid officer can publish the list of students' key generations."),
    "server.bad_epoch_list": ("密钥代数清单不是本校资助专干密钥签发的，未保存。",
                              "The list of key generations is not signed by this school's officer key; it was not "
                              "saved."),
    "server.epoch_list_stale": ("服务器已有第 {held} 版密钥代数清单，不接受第 {version} 版。",
                                "The server already holds version {held} of the list of key generations; version "
                                "{version} was not accepted."),
    # erasing a student after the retention period
    "server.archive_required": ("删除前必须先生成长期档案 PDF，并提供其 SHA-256。",
                                "Before erasing, make the long-term archive PDF and give its SHA-256."),
    "server.invalid_years": ("保存期应为 {min}–{max} 个学年。", "The retention period should be {min}–{max} school years."),
    "server.not_found.student": ("找不到该学生。", "The student cannot be found."),
    "server.on_roster": ("该学生仍在本校名册上，不能删除其资料。",
                         "This student is still on the school's roster; the records cannot be erased."),
    "server.not_due": ("该学生的资料保存期尚未届满（届满日 {ends}），不能删除。",
                       "This student's retention period has not ended yet (it ends on {ends}); the records cannot be "
                       "erased."),
    "server.not_due.unknown": ("该学生的资料保存期尚未届满（届满日 未知），不能删除。",
                               "This student's retention period has not ended yet (its end is unknown); the records "
                               "cannot be erased."),
    # a pushed change the server refused (the per-mutation answer's reason)
    "server.mutation_id_reused.batch": ("同一批次中重复的 mutation_id 对应不同内容，已拒绝。",
                                        "The same mutation_id came twice in this batch with different content; refused."),
    "server.mutation_id_reused": ("该 mutation_id 已用于另一项不同内容的修改，已拒绝。",
                                  "This mutation_id was already used for a different change; refused."),
    "server.unknown_kind": ("未知的记录类型“{kind}”。", "Unknown kind of record “{kind}”."),
    "server.invalid_hlc": ("时间戳格式不正确。", "The timestamp is not in the right form."),
    "server.server_managed": ("教职工由服务器管理员用命令行维护，不能同步修改。",
                              "Staff are kept by the server's administrator on the command line and cannot be "
                              "changed by a sync."),
    "server.already_gone": ("记录已不存在。", "The record no longer exists."),
    "server.missing_student": ("这类记录必须指明所属学生（student_id）。",
                               "This kind of record must name its student (student_id)."),
    "server.unknown_student": ("找不到该学生，可能已不在本校名册上。",
                               "The student cannot be found; they may no longer be on the school's roster."),
    "server.not_assigned": ("该学生未分配给您，不能修改其记录。",
                            "This student is not assigned to you, so you cannot change their records."),
    "server.kind_mismatch": ("该记录 ID 已属于另一种记录。", "This record ID already belongs to another kind of record."),
    "server.invalid_fields.type": ("字段内容不正确（{error}）。", "Some fields are not valid ({error})."),
    "server.invalid_fields.assignment": ("分工记录需要有效的 staff_id 和 role（visitor 或 mentor）。",
                                         "An assignment needs a valid staff_id and role (visitor or mentor)."),
    "server.invalid_fields.reviewer_staff": ("审核人必须是本校登记的教职工。",
                                             "The reviewer must be a staff member registered at this school."),
    "server.invalid_fields.reviewer_grade": ("请写明审核人负责的年级。", "Please say which grade the reviewer covers."),
    "server.too_deep": ("记录内容嵌套过深。", "The record's content is nested too deeply."),
    "server.sealed_format": ("sealed 必须是 base64 文字。", "sealed must be base64 text."),
    "server.invalid_record.delete": ("删除操作不能携带记录内容。", "A delete cannot carry the record's content."),
    "server.id_mismatch": ("routing.id 与 record_id 不一致。", "routing.id and record_id differ."),
    "server.student_mismatch.routing": ("routing.student_id 与 student_id 不一致。", "routing.student_id and student_id differ."),
    "server.student_mismatch": ("该记录属于另一名学生，不能改到别的学生名下。",
                                "This record belongs to another student and cannot be moved to a different one."),
    "server.not_author.deleted_draft": ("该记录 ID 属于另一位老师（已删除的草稿），不能占用。",
                                        "This record ID belongs to another teacher (a deleted draft) and cannot be "
                                        "taken."),
    "server.not_author.draft": ("这是另一位老师的草稿，不能修改。", "This is another teacher's draft and cannot be changed."),
    "server.not_author.delete": ("只有草稿的作者可以删除它。", "Only the draft's author can delete it."),
    "server.not_author.void": ("只有作者或资助专干可以作废这条记录。", "Only the author or the aid officer can void this record."),
    "server.author_mismatch": ("记录的作者必须是本机登记的教职工本人。",
                               "The record's author must be the staff member this computer is enrolled for."),
    "server.device_mismatch.record": ("记录的设备必须是本机。", "The record's device must be this computer."),
    "server.platform_source": ("来自市平台的记录只能由服务器从平台导入。",
                               "Records from the city platform are imported by the server only."),
    "server.bad_amendment": ("更正记录只能指向同一学生已定稿的家访记录。",
                             "A correction can only point to a finalized visit record of the same student."),
    "server.bad_reference.conflict_copy": ("冲突副本只能指向同一学生的导师记录。",
                                           "A conflict copy can only point to a mentor note of the same student."),
    "server.bad_reference.review_kind": ("审核只能针对家访记录或成长档案条目。",
                                         "A review can only be about a visit record or a growth entry."),
    "server.bad_reference.review_target": ("审核的记录不存在，或不属于这名学生。",
                                           "The reviewed record does not exist or does not belong to this student."),
    "server.invalid_status": ("家访记录状态只能是 draft、final 或 voided。",
                              "A visit record's status can only be draft, final or voided."),
    "server.reason_required.void": ("作废已定稿的家访记录必须说明原因。", "Voiding a finalized visit record must give its reason."),
    "server.finalized": ("这条家访记录已定稿，不能修改；如需更正，请新建更正记录并说明原因。",
                         "This visit record is finalized and cannot be changed; to correct it, make a correction "
                         "and give the reason."),
    "server.voided": ("这条家访记录已作废，不能再修改。", "This visit record has been voided and cannot be changed."),
    "server.append_only": ("这类记录只能追加，不能修改已有的记录。",
                           "This kind of record is add-only; an existing one cannot be changed."),
    "server.append_only.review": ("审核记录只能追加；重新审核请新建一条审核记录。",
                                  "Reviews are add-only; to review again, add a new review."),
    "server.bad_record_id": ("成长档案字段的记录 ID 必须由学生 ID 和字段名生成（UUIDv5）。",
                             "A growth profile field's record ID must be made from the student ID and the field name "
                             "(UUIDv5)."),
    "server.stale_base.field": ("该字段已被他人修改；较晚的修改暂时生效，另一版本保存在冲突记录中待处理。",
                                "Somebody else changed this field too; the later change applies for now and the other "
                                "version is kept in a conflict to resolve."),
    "server.stale_base.mentor_note": ("这条导师记录已被他人修改；您的版本已另存为冲突副本，没有丢失。",
                                      "Somebody else changed this mentor note; your version was kept as a conflict "
                                      "copy and is not lost."),
    "server.final.determination": ("公示已经结束，认定结果已生效，不能再修改。",
                                   "The public notice has ended and the determination is in force; it can no longer "
                                   "be changed."),
    "server.final.objection": ("公示已经结束，不能再登记或修改异议。",
                               "The public notice has ended; objections can no longer be recorded or changed."),
    "server.delete_not_allowed": ("这类记录不能删除；已定稿的记录只能作废并说明原因。",
                                  "This kind of record cannot be deleted; a finalized record can only be voided, with "
                                  "a reason."),

    # -- the profile, its keys and backups --------------------------------------------------
    "profile.locked": ("这个档案已经在本软件的另一个窗口中打开。",
                       "This profile is already open in another window of the application."),
    "profile.too_new": ("这个档案由更新版本的软件创建，请先升级软件再打开。",
                        "This profile was written by a newer version of the application. Please update "
                        "the application before opening it."),
    "crypto.wrong_passphrase": ("口令不正确，请再试一次。", "Wrong passphrase. Please try again."),
    "crypto.wrong_passphrase_wait": ("口令不正确（已连续错误 {failures} 次）。请再试一次；为防止猜测，下次尝试需等待 "
                                     "{seconds} 秒。",
                                     "Wrong passphrase ({failures} times in a row). Please try again; to slow "
                                     "down guessing, the next try waits {seconds} seconds."),
    "crypto.key_file": ("档案的密钥文件缺失或已损坏。请使用恢复密钥，或联系学校资助专干。",
                        "The profile's key file is missing or damaged. Use your recovery key or ask the "
                        "school's aid officer for help."),
    "crypto.tampered": ("部分数据未通过完整性校验，可能被篡改。没有做任何修改，请告知学校资助专干。",
                        "Some stored data failed its integrity check and may have been tampered with. "
                        "Nothing was changed. Please tell the school's aid officer."),
    "backup.target_not_empty": ("目标位置已经有档案：{path}。请换一个空文件夹，以免覆盖现有记录。",
                                "There is already a profile at {path}. Please choose an empty folder so no "
                                "records are overwritten."),
    "backup.unreadable": ("无法读取备份文件：{reason}", "The backup file cannot be read: {reason}"),
    "backup.not_a_backup": ("这不是 visitapp 的备份文件。", "This is not a visitapp backup file."),
    "backup.no_header": ("备份文件已损坏（缺少文件头）。", "The backup file is damaged (its header is missing)."),
    "backup.bad_header": ("备份文件已损坏（文件头无法读取）。", "The backup file is damaged (its header cannot be read)."),

    # -- the key directory and the officer key (visitapp.services.keys, issue 14) ----------
    "keys.server_refused": ("学校服务器拒绝了密钥请求（HTTP {status}）：{detail}",
                            "The school server refused the key request (HTTP {status}): {detail}"),
    "keys.not_enrolled": ("本机尚未注册到学校服务器。", "This computer is not enrolled with a school server yet."),
    "keys.device_keys_not_registered": ("本机的密钥尚未登记到学校服务器。",
                                        "This computer's keys are not registered with the school server yet."),
    "keys.other_officer_key_pinned": ("本机已信任另一把资助专干密钥，拒绝更换。若学校确实更换了密钥，请重新注册本机。",
                                      "This computer already trusts another officer key and will not replace it. "
                                      "If the school really changed its key, enroll this computer again."),
    "keys.no_school_officer_key": ("学校尚未登记资助专干密钥。", "The school has no officer key registered yet."),
    "keys.officer_fingerprint_mismatch": ("服务器给出的资助专干密钥与资助专干屏幕上的指纹不符：已拒绝，请联系资助专干。",
                                          "Refused: the officer key the server lists does not match the "
                                          "fingerprint on the officer's screen, so the server's keys may have been "
                                          "swapped. Nothing was trusted; please tell the aid officer."),
    "keys.officer_fingerprint_missing": ("请输入资助专干屏幕上显示的资助专干密钥指纹。",
                                         "Please type the officer key fingerprint the officer's screen shows."),
    "keys.no_officer_key": ("本机没有资助专干密钥（只有资助专干的电脑持有）。",
                            "This computer does not hold the officer key (only the aid officer's computer does)."),
    "keys.officer_key_exists": ("本机已有资助专干密钥。", "This computer already holds the officer key."),
    "keys.officer_key_not_trusted": ("本机尚未信任学校的资助专干密钥（密钥尚未认证），不向任何设备加密。",
                                     "This computer does not trust the school's officer key yet (its keys are not "
                                     "certified), so it encrypts nothing for any device."),
    "keys.wrap_not_for_this_device": ("服务器发来一个不是给本机的密钥（设备 {device_id}）。",
                                      "The server sent a key that is not for this computer (device {device_id})."),
    "keys.wrap_not_for_lost_device": ("服务器发来一个不是给那台电脑的密钥（设备 {device_id}）。",
                                      "The server sent a key that is not for that computer (device {device_id})."),
    "keys.device_not_pending": ("设备 {device_id} 不在待认证列表中。",
                                "Device {device_id} is not waiting for certification."),
    "keys.device_fingerprint_mismatch": ("指纹不一致：服务器列出的公钥不是那台电脑的。已拒绝认证，请联系学校网管检查服务器。",
                                         "Refused: the fingerprints differ, so the keys the server lists are not "
                                         "that computer's and may have been swapped. Nothing was certified; ask "
                                         "the school's IT teacher to check the server."),
    "keys.device_fingerprint_missing": ("请输入那台电脑屏幕上显示的指纹。",
                                        "Please type the fingerprint that computer's screen shows."),
    "keys.compare_fingerprint_first": ("请先核对那台电脑屏幕上显示的指纹。",
                                       "Please compare the fingerprint that computer's screen shows first."),
    "keys.restore_officer_only": ("只有资助专干的电脑可以从恢复页恢复资助专干密钥。",
                                  "Only the aid officer's computer can restore the officer key from a recovery "
                                  "sheet."),
    "keys.sheet_missing": ("请输入恢复页上的密钥（28 组，每组 4 个字符）。",
                           "Please type the key on the recovery sheet (28 groups of 4 characters)."),
    "keys.sheet_mistyped": ("恢复页上的密钥有输入错误（有无效字符、漏输或多输了一组，或输错了字符），请对照恢复页逐组重新输入。",
                            "The key typed from the recovery sheet has a mistake (a character not on the sheet, a "
                            "group left out or doubled, or a wrong character). Compare it with the sheet group by "
                            "group and type it again."),
    "keys.sheet_not_this_school": ("这张恢复页上的资助专干密钥不是学校服务器登记的那一把：它不是本校的恢复页，"
                                   "或服务器的登记被改动了。未作任何更改。",
                                   "The officer key on this recovery sheet is not the one the school server "
                                   "registered: the sheet is another school's, or the server's record was changed. "
                                   "Nothing was changed."),
    "keys.sheet_other_key_pinned": ("本机已信任另一把资助专干密钥，这张恢复页不属于它。未作任何更改。",
                                    "This computer already trusts another officer key and this recovery sheet is "
                                    "not of it. Nothing was changed."),
    "keys.sheet_device_not_found": ("学校服务器上找不到这张恢复页所属的资助专干电脑。",
                                    "The school server lists no officer computer this recovery sheet belongs to."),
    "keys.sheet_device_uncertified": ("学校服务器登记的电脑 {device_id} 没有资助专干密钥的有效签名：服务器上的公钥可能被"
                                      "替换过。未作任何更改，请联系学校网管检查服务器。",
                                      "The computer {device_id} the school server lists for this sheet has no valid "
                                      "signature of the officer key: the server's keys may have been swapped. "
                                      "Nothing was changed; ask the school's IT teacher to check the server."),
    "keys.sheet_own": ("这是本机自己的恢复页，本机已持有这些密钥。",
                       "This is this computer's own recovery sheet; it already holds these keys."),
    # the signed epoch list (docs/decisions/signed-epoch-list.md)
    "keys.epoch_withheld": ("学校服务器没有把学生 {student} 第 {epoch} 代内容密钥发给本机（本机只有第 {held} 代）。"
                            "在收到之前，本机不再用旧密钥加密这名学生的新内容，只加密给资助专干和本机。"
                            "请联系资助专干或学校网管检查服务器。",
                            "The school server has not delivered generation {epoch} of student {student}'s content "
                            "key to this computer (it holds only generation {held}). Until it arrives, new content "
                            "about this student is no longer sealed under the old key, only to the aid officer and "
                            "this computer. Please ask the aid officer or the school's IT teacher to check the "
                            "server."),
    "keys.epoch_list_rollback": ("学校服务器给出的是第 {version} 版密钥代数清单，本机已见过第 {seen} 版：旧清单不予采用。"
                                 "服务器可能在隐瞒新的密钥，请联系资助专干或学校网管检查服务器。",
                                 "The school server served version {version} of the list of key generations, but "
                                 "this computer has seen version {seen}: the older list is not used. The server may "
                                 "be withholding new keys; please ask the aid officer or the school's IT teacher "
                                 "to check the server."),
    "keys.epoch_list_missing": ("学校服务器没有给出密钥代数清单，而本机已见过第 {seen} 版：服务器可能在隐瞒新的密钥，"
                                "请联系资助专干或学校网管检查服务器。",
                                "The school server served no list of key generations, but this computer has seen "
                                "version {seen}: the server may be withholding new keys. Please ask the aid officer "
                                "or the school's IT teacher to check the server."),
    "keys.epoch_list_forged": ("学校服务器给出的密钥代数清单没有本校资助专干密钥的有效签名，已拒绝。"
                               "请联系资助专干或学校网管检查服务器。",
                               "The list of key generations the school server served is not validly signed by this "
                               "school's officer key, so it was refused. Please ask the aid officer or the school's "
                               "IT teacher to check the server."),
    "keys.epoch_list_not_published": ("未能发布学生密钥的代数清单（下次同步时重试）：{detail}",
                                      "The list of students' key generations could not be published (tried again at "
                                      "the next sync): {detail}"),

    # what a sync's key work could not do (SyncReport.warnings: the sync itself went on)
    "keys.cannot_seal": ("本机尚不能加密第三级内容（家庭情况、走访记述等）：{why}。这些内容暂以旧方式上传（学校服务器可读），"
                         "不会丢失；资助专干的电脑完成密钥设置后，会自动重新加密。",
                         "This computer cannot seal tier C (family situation, visit narratives and the like) "
                         "yet: {why}. It is uploaded the old way for now (the school server can read it); nothing "
                         "is lost, and it is sealed again automatically once the aid officer's computer has set "
                         "up the keys."),
    "keys.why_no_device_keys": ("本机注册时还没有设备密钥", "this computer had no device keys when it enrolled"),
    "keys.why_officer_key_untrusted": ("本机尚未信任学校的资助专干密钥",
                                       "this computer does not trust the school's officer key yet"),
    "keys.why_no_certified_officer": ("学校还没有已认证的资助专干设备",
                                      "the school has no certified aid officer computer yet"),
    "keys.why_directory_unread": ("读取学校的密钥目录失败（{error}）",
                                  "the school's key directory could not be read ({error})"),
    "keys.certify_failed": ("未能认证设备 {device_id}：{detail}", "Device {device_id} could not be certified: {detail}"),
    "keys.sync_incomplete": ("密钥同步未完成：{detail}", "The key part of the sync did not finish: {detail}"),
    "keys.share_failed": ("未能分发学生的内容密钥：{detail}", "The students' content keys could not be shared: {detail}"),
    "keys.device_refused_sharing": ("设备 {device_id} 的密钥未通过资助专干密钥校验，未向其分发学生密钥：{detail}",
                                    "Device {device_id}'s keys failed the officer key's check, so no student keys "
                                    "were shared with it: {detail}"),
    "keys.reseal_failed": ("未能重新加密服务器上的内容：{detail}",
                           "What the server holds could not be sealed again: {detail}"),
    "keys.record_reseal_failed": ("记录 {record_id} 未能重新加密：{detail}",
                                  "Record {record_id} could not be sealed again: {detail}"),

    # -- records that are not there ---------------------------------------------------------
    "student.not_found": ("没有这个学生。", "There is no such student."),
    "student.not_found_id": ("没有这个学生：{student_id}", "There is no such student: {student_id}"),
    "staff.not_found": ("没有这位教师。", "There is no such teacher."),
    "staff.not_on_this_computer": ("本机没有这位教师的记录，请先同步。",
                                   "This computer has no record of this teacher yet. Please sync first."),
    "visit.not_found_id": ("没有这条家访记录：{visit_id}", "There is no such visit record: {visit_id}"),
    "visit.student_not_found": ("没有这个学生，无法新建家访记录。",
                                "There is no such student, so no visit record can be started."),
    "application.not_found": ("没有这条申请记录。", "There is no such application."),
    "assignment.not_found": ("没有这条分配记录。", "There is no such assignment."),
    "conflict.not_found": ("没有这条冲突记录。", "There is no such conflict."),
    "meeting.not_found": ("没有这次评议会议。", "There is no such review meeting."),
    "notice.not_found": ("找不到这份公示，可能尚未同步到本机。",
                         "This public notice cannot be found; it may not have been synced to this computer yet."),
    "objection.not_found": ("找不到这条异议。", "This objection cannot be found."),
    "reviewer.not_found": ("没有这条审核人指定记录。", "There is no such reviewer appointment."),
    "growth.not_found": ("没有这条成长档案记录。", "There is no such growth record."),

    # -- field problems of the records (entities' problems()) ------------------------------
    "student.name_missing": ("学生姓名不能为空", "The student's name cannot be empty"),
    "student.class_missing": ("班级不能为空", "The class cannot be empty"),
    "student.masked_id_form": ("身份证号必须是脱敏格式（如 3202**********1234）",
                              "The ID number must be masked (e.g. 3202**********1234)"),
    "student.full_id_refused": ("完整身份证号不得存入本机，只能保存脱敏号码",
                               "A full ID number may not be stored on this computer; only a masked one"),
    "visit.income_range": ("家庭年收入应为 0 到 1 亿元之间的整数",
                          "The household's yearly income should be a whole number from 0 to 100 million yuan"),
    "visit.member_age_range": ("第 {n} 位家庭成员的年龄应在 0–120 之间", "Family member {n}'s age should be 0–120"),
    "visit.member_relation_missing": ("第 {n} 位家庭成员需要填写与学生的关系",
                                     "Please enter family member {n}'s relation to the student"),
    "visit.narrative_too_long": ("家访情况记录过长（最多 50000 字）", "The visit narrative is too long (at most 50000 characters)"),
    "growth.reward_kind_missing": ("请选择奖励类型（奖学金、公开表彰、岗位锻炼或研学机会）",
                                  "Please choose the kind of reward (scholarship, public commendation, work "
                                  "placement or study trip)"),
    "growth.aid_kind_missing": ("请选择资助类型", "Please choose the kind of aid"),
    "growth.amount_negative": ("金额不能为负数", "The amount cannot be negative"),
    "growth.title_missing": ("请填写名称", "Please enter the name"),
    "mentor.text_missing": ("记录内容不能为空", "The note cannot be empty"),
    "mentor.discussion_participants": ("常态化研讨至少需要两位参与者", "A regular discussion needs at least two participants"),
    "meeting.date_missing": ("请填写评议日期", "Please enter the date of the review meeting"),
    "meeting.reviewers_too_few": ("集体评议至少需要三位评议人", "A review meeting needs at least three reviewers"),
    "notice.period_missing": ("请填写公示起止日期", "Please enter the first and last day of the notice period"),
    "notice.period_reversed": ("公示结束日期不能早于开始日期", "The notice period cannot end before it starts"),
    "notice.period_too_short": ("公示期不少于 5 天", "The notice period must be at least 5 days"),
    "support.centre_name_missing": ("请填写学生发展支持中心的名称",
                                   "Please enter the name of the student development support centre"),
    "support.evidence_missing": ("请填写佐证材料（如场地、值班安排、工作记录）",
                                "Please enter the evidence (e.g. the room, the duty rota, work records)"),
    "application.date_missing": ("请填写申请日期", "Please enter the date of the application"),
    "application.channel_missing": ("请选择申请方式", "Please choose how the application was made"),
    "application.details_too_long": ("申请说明过长（最多 20000 字）",
                                    "The application's details are too long (at most 20000 characters)"),
    "record_review.return_comment_missing": ("退回时必须写明原因，作者据此修改",
                                            "Returning a record needs a comment the author can act on"),
    "record_review.comment_too_long": ("审核意见过长（最多 5000 字）", "The review comment is too long (at most 5000 characters)"),
    "date.missing": ("请填写日期", "Please enter the date"),
    "date.visit_future": ("家访日期不能晚于今天（{today}）", "The date of the visit cannot be after today ({today})"),
    "date.future": ("日期不能晚于今天（{today}）", "The date cannot be after today ({today})"),
    "date.meeting_future": ("评议日期不能晚于今天（{today}）", "The date of the review meeting cannot be after today ({today})"),
    "date.applied_future": ("申请日期不能晚于今天（{today}）", "The date of the application cannot be after today ({today})"),

    # -- who may do what --------------------------------------------------------------------
    "officer.review_only": ("只有资助专干可以记录集体评议和认定结果。",
                            "Only the aid officer can record review meetings and their determinations."),
    "officer.assign_only": ("只有资助专干可以分配家访教师和育人导师。",
                            "Only the aid officer can assign visiting teachers and mentors."),
    "officer.end_assignment_only": ("只有资助专干可以结束分配。", "Only the aid officer can end an assignment."),
    "officer.appoint_reviewer_only": ("只有资助专干可以指定审核人。", "Only the aid officer can appoint reviewers."),
    "officer.end_reviewer_only": ("只有资助专干可以取消审核人。", "Only the aid officer can end a reviewer's appointment."),
    "officer.notice_only": ("只有资助专干可以处理公示和异议。",
                            "Only the aid officer can handle public notices and objections."),
    "officer.reports_only": ("只有资助专干可以查看全校的覆盖率和数据质量报告。",
                             "Only the aid officer can see the school's coverage and data quality reports."),
    "officer.retention_only": ("学生资料的归档和删除由资助专干办理。",
                               "Archiving and erasing a student's records is done by the aid officer."),
    "officer.support_only": ("只有资助专干可以登记学生发展支持中心和重点帮扶对象。",
                             "Only the aid officer can record the student development support centre and "
                             "key-support students."),
    "officer.access_copy_only": ("个人信息查阅副本由资助专干出具。",
                                 "Copies of personal information for access requests are made by the aid officer."),
    "application.record_not_allowed": ("只有资助专干或该学生的班主任（家访教师）可以登记申请。",
                                       "Only the aid officer or the student's class teacher (visiting teacher) "
                                       "can record an application."),
    "application.edit_not_allowed": ("只有登记人或资助专干可以修改这条申请。",
                                     "Only the person who recorded this application or the aid officer can "
                                     "change it."),
    "mentor.not_the_mentor": ("只有该学生的育人导师可以写导师记录。",
                              "Only the student's mentor can write mentor notes."),
    "mentor.not_the_author": ("只能修改自己写的导师记录。", "You can only change mentor notes you wrote yourself."),
    "workload.own_only": ("只能查看本人的工作量统计；其他教师的统计请由资助专干出具。",
                          "You can only see your own workload; the aid officer can produce other teachers'."),

    # -- visits -----------------------------------------------------------------------------
    "visit.date_missing": ("请填写家访日期", "Please enter the date of the visit."),
    "visit.mode_missing": ("请选择家访方式", "Please choose how the visit was made."),
    "visit.visitors_missing": ("请至少填写一位家访教师", "Please enter at least one visiting teacher."),
    "visit.consent_missing": ("请确认监护人是否知情同意", "Please say whether the guardian agreed."),
    "visit.narrative_missing": ("请填写家访情况记录", "Please write down what the visit found."),
    "visit.amendment_reason_missing": ("更正必须说明原因", "A correction must give its reason."),
    "reason.void_missing": ("作废必须说明原因", "Voiding a record must give its reason"),
    "reason.conflict_missing": ("处理冲突必须说明原因", "Resolving a conflict must give its reason"),
    "visit.finalized_immutable": ("这条家访记录已定稿，不能直接修改；如需更正，请使用“更正”并说明原因。",
                                  "This visit record is finalized and cannot be changed directly; to correct "
                                  "it, use “Correct” and give the reason."),
    "visit.only_drafts_finalize": ("只有草稿可以定稿。", "Only a draft can be finalized."),
    "visit.only_final_amend": ("只有已定稿的家访记录可以更正。", "Only a finalized visit record can be corrected."),
    "visit.already_void": ("这条家访记录已经作废。", "This visit record has already been voided."),
    "visit.draft_not_voided": ("草稿不需要作废，可以直接删除。",
                               "A draft does not need to be voided; it can simply be deleted."),
    "visit.final_not_deleted": ("已定稿的记录不能删除，只能作废并说明原因。",
                                "A finalized record cannot be deleted; it can only be voided, with a reason."),
    "visit.open_amendment": ("这条记录已有一份未定稿的更正，请先完成或删除它。",
                             "This record already has an unfinished correction; please finish or delete it first."),
    "visit.unopened_not_printed": ("这条家访记录的家庭情况内容待资助专干授权后可查看，本机暂时不能打印它；"
                                   "请资助专干同步一次后，您再同步并重试。",
                                   "The family's situation in this visit record is visible once the aid officer "
                                   "grants access, so it cannot be printed here yet; sync again after the "
                                   "officer's sync."),
    "visit.unopened_not_amended": ("这条记录的家庭情况内容待资助专干授权后可查看，本机暂时不能更正它"
                                   "（更正会带上原记录的内容）。请资助专干同步一次后，您再同步并重试。",
                                   "The family's situation in this record is visible once the aid officer grants "
                                   "access, so it cannot be corrected here yet (a correction copies the record). "
                                   "Sync again after the officer's sync."),
    "visit.draft_not_printed": ("草稿不能打印存档，请先定稿。",
                                "A draft cannot be printed for the archive; please finalize it first."),
    "visit.none_to_print": ("没有符合条件的已定稿家访记录。", "There are no finalized visit records that match."),

    # -- review, determinations, public notice ----------------------------------------------
    "review.visit_first": ("先家访后认定：该学生本学期还没有已定稿的实地家访记录，不能认定。",
                           "Visit first, then determine: this student has no finalized on-site visit this "
                           "term, so no determination can be made."),
    "review.visitor_sole_reviewer": ("家访教师不能是该学生唯一的评议人，请增加其他评议人。",
                                     "The visiting teacher cannot be the student's only reviewer; please add "
                                     "other reviewers."),
    "review.no_determinations": ("这次评议还没有认定结果，无法公示。",
                                 "This review meeting has no determinations yet, so nothing can be published."),
    "review.determination_final": ("公示已经结束，这项认定已经生效，不能再修改。",
                                   "The public notice has ended and this determination is in force; it can no "
                                   "longer be changed."),
    "review.notice_closed_republish": ("这次评议的公示已经结束，认定已经生效，不能重新公示。",
                                       "This meeting's public notice has ended and its determinations are in "
                                       "force; it cannot be published again."),
    "review.determinations_final": ("这次评议的认定已经生效，不能重新公示。",
                                    "This meeting's determinations are in force; it cannot be published again."),
    "review.notice_not_published": ("这次评议还没有发布公示，请先在“评议与认定”中发布公示。",
                                    "This review meeting has no public notice yet; please publish it under "
                                    "“Review and determination” first."),
    "notice.closed_no_objections": ("公示已结束，不能再登记异议。",
                                    "The public notice has ended; no more objections can be recorded."),
    "notice.objection_outside_period": ("异议必须在公示期内（{start}至{end}）收到。",
                                        "An objection must be received during the notice period ({start} to {end})."),
    "notice.objection_content_missing": ("请填写异议内容。", "Please enter what the objection says."),
    "notice.objection_handled": ("这条异议已经处理过。", "This objection has already been handled."),
    "notice.handling_missing": ("请说明异议的处理情况。", "Please say how the objection was handled."),
    "notice.handled_before_received": ("处理日期不能早于收到异议的日期。",
                                       "The handling date cannot be before the date the objection was received."),
    "notice.student_not_listed": ("异议所涉及的学生不在这份公示名单上。",
                                  "The student the objection is about is not on this notice's list."),
    "notice.closed_objection_locked": ("公示已经结束，异议不能再修改。",
                                       "The public notice has ended; objections can no longer be changed."),

    # -- record review ----------------------------------------------------------------------
    "notice.already_closed": ("公示已经结束。", "The public notice has already ended."),
    "notice.period_not_over": ("公示期至 {end} 结束，期满后才能结束公示。",
                               "The notice period runs until {end}; the notice can be closed only after it."),
    "notice.objections_open": ("还有 {count} 条异议尚未处理。", "{count} objections have not been handled yet."),
    "notice.cannot_close": ("不能结束公示：{blockers}", "The public notice cannot be closed: {blockers}"),
    "record_review.record_missing": ("找不到要审核的记录。", "The record to review cannot be found."),
    "record_review.visit_not_final": ("只能审核已定稿的家访记录（草稿和已作废的记录不审核）。",
                                     "Only finalized visit records can be reviewed (drafts and voided records "
                                     "are not)."),
    "record_review.platform_record": ("市平台导入的记录不由学校审核。",
                                     "Records imported from the city platform are not reviewed by the school."),
    "record_review.own_record": ("谁审核谁负责：不能审核自己填写的记录，请由资助专干或其他审核人审核。",
                                "Whoever reviews is answerable: you cannot review a record you wrote; the aid "
                                "officer or another reviewer must review it."),
    "record_review.not_a_reviewer": ("只有资助专干和资助专干指定的年级审核人可以审核记录。",
                                    "Only the aid officer and the grade reviewers the officer appointed can "
                                    "review records."),
    "reviewer.grade_missing": ("请填写所负责的年级（如“七年级”）", "Please enter the grade they review (e.g. “Grade 7”)"),
    "record_review.wrong_kind": ("只能审核家访记录和成长档案条目。",
                                 "Only visit records and growth entries can be reviewed."),
    "growth.not_the_author": ("只有这条记录的作者可以按审核意见修改它。",
                              "Only the author of this record can change it after a review."),
    "growth.only_returned_editable": ("只有被审核人退回的记录才能修改；成长档案记录一经登记只能追加。",
                                      "Only a record a reviewer returned can be changed; growth records are "
                                      "otherwise add-only."),

    # -- support, conflicts -----------------------------------------------------------------
    "support.reason_missing": ("认定或取消重点帮扶都须说明理由",
                               "Designating or withdrawing key support needs a reason"),
    "support.not_on_roster": ("该学生已不在本校名册，不能认定为重点帮扶对象。",
                              "This student is no longer on the school's roster and cannot be designated for "
                              "key support."),
    "conflict.already_resolved": ("这条冲突已经处理过了。", "This conflict has already been resolved."),

    # -- retention --------------------------------------------------------------------------
    "retention.on_roster": ("该学生仍在本校名册上，资料不能归档删除。",
                            "This student is still on the school's roster; the records cannot be archived "
                            "and erased."),
    "retention.not_due": ("该学生的资料保存期尚未届满（届满日 {ends}）。",
                          "This student's retention period has not ended yet (it ends on {ends})."),
    "retention.not_due_unknown": ("该学生的资料保存期尚未届满（届满日 不详（缺离开名册日期））。",
                                  "This student's retention period has not ended yet (its end is unknown: the "
                                  "date they left the roster is missing)."),
    "retention.not_enrolled": ("本机尚未注册到学校服务器：删除必须在服务器上办理，才能从所有电脑上清除。",
                               "This computer is not enrolled with the school server: erasing must go through "
                               "the server so it reaches every computer."),
    "retention.sync_incomplete": ("同步未完成，暂不能删除：{reasons}",
                                  "The sync did not finish, so nothing can be erased yet: {reasons}"),
    "retention.unsent_changes": ("本机还有关于该学生的修改未上传，请先同步。",
                                 "This computer has changes about this student that are not uploaded yet; "
                                 "please sync first."),
    "retention.archive_first": ("请先生成该学生的长期档案 PDF，再删除。",
                                "Please make the student's long-term archive PDF before erasing."),
    "retention.archive_stale": ("归档后该学生的记录有了变化，请重新生成长期档案，再删除。",
                                "The student's records changed after archiving; please make the long-term "
                                "archive again before erasing."),
    "retention.not_erased": ("本机没有删除过这名学生，没有迟到的记录可删；请先在上方名单中归档并删除。",
                             "This computer has not erased this student, so there is no late work to erase; "
                             "archive and erase the student in the list above first."),

    # -- settings ---------------------------------------------------------------------------
    "settings.idle_lock_range": ("自动锁定时间应为 1–240 分钟", "The automatic lock should be 1–240 minutes"),
    "settings.language": ("语言只能是中文或英文", "The language can only be Chinese or English"),
    "settings.note_days_range": ("导师记录的间隔应为 {low}–{high} 天", "The mentor note interval should be {low}–{high} days"),
    "settings.retention_range": ("保存期应为 {min}–{max} 个学年",
                                 "The retention period should be {min}–{max} school years"),
    "settings.timeout_range": ("超时时间应为 1–600 秒", "The timeout should be 1–600 seconds"),
    "settings.server_url_required": ("这台电脑已注册，服务器地址不能为空",
                                     "This computer is enrolled, so the server address cannot be empty"),
    "settings.server_url_form": ("服务器地址应形如 https://192.168.1.10:8443",
                                 "The server address should look like https://192.168.1.10:8443"),
    "settings.server_url_port": ("服务器地址中的端口号不正确", "The port number in the server address is not valid"),
    "settings.server_url_https": ("学校服务器地址必须以 https:// 开头（http 只允许本机）",
                                  "The school server address must start with https:// (http only on this computer)"),
}


class _KeepMissing(dict):
    """A placeholder nobody filled stays visible as ``{name}`` instead of failing the raise."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def text(message_id: str, language: str = ZH, **params: object) -> str:
    """The sentence of ``message_id`` in ``language`` (``zh_CN``, else English), filled with
    ``params`` (a list or tuple of sentences fills its placeholder one after the other); raises
    KeyError for an id the table does not have."""
    zh, en = MESSAGES[message_id]
    filled = {k: "".join(map(str, v)) if isinstance(v, (list, tuple)) else v for k, v in params.items()}
    return (zh if language == ZH else en).format_map(_KeepMissing(filled))


def placeholders(sentence: str) -> set[str]:
    """The ``{name}`` placeholders of a sentence."""
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(sentence) if name}
