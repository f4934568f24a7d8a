import MockJSON

/// A mailbox message a test puts in a thread's mailbox.
public struct MessagePlan {
    /// The sender; by default the thread's parent, or the thread itself.
    public var fromThreadID: String?
    public var content: JSON
    public var status: MailboxStatus

    public init(fromThreadID: String?, content: JSON, status: MailboxStatus) {
        self.fromThreadID = fromThreadID
        self.content = content
        self.status = status
    }
}

extension Store {
    public func mailbox(sessionID: String, threadID: String) throws(DomainError) -> [MailboxMessage] {
        try thread(threadID, in: sessionID).mailbox
    }

    /// API.md section 8: messages between threads of one session.
    public func putMessage(sessionID: String, threadID: String, _ plan: MessagePlan) throws(DomainError)
        -> MailboxMessage
    {
        let thread = try thread(threadID, in: sessionID)
        if thread.status.isFinal {
            throw .conflict(
                "Thread '\(thread.id)' is \(thread.status.rawValue); a final thread takes no more messages.")
        }
        let fromID = plan.fromThreadID ?? thread.parentThreadID ?? thread.id
        guard let from = threadsByID[fromID], from.sessionID == thread.sessionID else {
            throw .invalid("from_thread_id '\(fromID)' is not a thread of this session.", param: "from_thread_id")
        }
        let message = MailboxMessage(
            id: ids.make("msg"), fromThreadID: from.id, toThreadID: thread.id, content: plan.content,
            status: plan.status, createdAt: clock.now())
        thread.mailbox.append(message)
        return message
    }

    /// An archived thread's pending messages will never be read.
    func cancelPendingMessages(of thread: SessionThread) {
        for i in thread.mailbox.indices where thread.mailbox[i].status == .pending {
            thread.mailbox[i].status = .cancelled
        }
    }
}
