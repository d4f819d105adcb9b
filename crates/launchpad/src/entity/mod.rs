//! SeaORM entities, one file per table. Constraints, checks and partial indexes live in
//! the migrations; entities describe columns only.

pub mod activity_logs;
pub mod admin_requests;
pub mod chatbot_history;
pub mod files;
pub mod ideas;
pub mod meetings;
pub mod orders;
pub mod plans;
pub mod projects;
pub mod services;
pub mod synopsis;
pub mod user_services;
pub mod users;

dbkit::soft_deletable!(admin_requests);
dbkit::soft_deletable!(chatbot_history);
dbkit::soft_deletable!(files);
dbkit::soft_deletable!(ideas);
dbkit::soft_deletable!(meetings);
dbkit::soft_deletable!(orders);
dbkit::soft_deletable!(plans);
dbkit::soft_deletable!(projects);
dbkit::soft_deletable!(services);
dbkit::soft_deletable!(synopsis);
dbkit::soft_deletable!(user_services);
dbkit::soft_deletable!(users);

// Timestamps of new rows, and the twins lists search and sort by (`dbkit::fold`).
dbkit::row_behaviour!(
    admin_requests {
        RequestTypeFold = Fold(RequestType),
        MessageFold = Fold(Message),
    },
    chatbot_history,
    files { OriginalNameFold = Fold(OriginalName) },
    ideas {
        TitleFold = Fold(Title),
        TitleWords = Words(Title),
        DescriptionWords = Words(Description),
    },
    meetings {
        TopicFold = Fold(Topic),
        NotesFold = Fold(Notes),
    },
    orders { PaymentReferenceFold = Fold(PaymentReference) },
    plans {
        NameFold = Fold(Name),
        DescriptionFold = Fold(Description),
    },
    projects {
        TitleFold = Fold(Title),
        TitleWords = Words(Title),
        DescriptionWords = Words(Description),
    },
    services {
        NameFold = Fold(Name),
        DescriptionFold = Fold(Description),
    },
    synopsis { TitleFold = Fold(Title) },
    user_services,
    users {
        EmailFold = Fold(Email),
        NameFold = Fold(Name),
    },
);
